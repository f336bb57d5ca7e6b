# Reference values for attunement.analysis.apim_diary.
# Run from this folder: Rscript apim_diary.R   (R 4.2, nlme 3.1-162, lme4 1.1-31)
suppressPackageStartupMessages({library(nlme); library(lme4); library(MASS)})
set.seed(20260524)
n_dyad <- 70; days <- 14
rows <- list()
for (d in seq_len(n_dyad)) {
  u <- mvrnorm(1, c(0, 0), matrix(c(0.5, 0.2, 0.2, 0.6), 2))
  mu <- rnorm(2, c(3, 3.3), 0.7)
  k <- days - sample(0:2, 1)
  x1 <- mu[1] + rnorm(k, 0, 1); x2 <- mu[2] + 0.3 * (x1 - mu[1]) + rnorm(k, 0, 1)
  y1 <- 2 + u[1] + 0.45 * (x1 - mu[1]) + 0.15 * (x2 - mu[2]) + 0.5 * (mu[1] - 3) + 0.2 * (mu[2] - 3.3) + rnorm(k, 0, 0.7)
  y2 <- 2.4 + u[2] + 0.30 * (x2 - mu[2]) + 0.25 * (x1 - mu[1]) + 0.3 * (mu[2] - 3.3) + 0.3 * (mu[1] - 3) + rnorm(k, 0, 0.9)
  rows[[d]] <- rbind(
    data.frame(dyad = sprintf("d%02d", d), person = sprintf("d%02d-c", d), role = "carer", day = seq_len(k), x = round(x1, 3), y = round(y1, 3)),
    data.frame(dyad = sprintf("d%02d", d), person = sprintf("d%02d-p", d), role = "patient", day = seq_len(k), x = round(x2, 3), y = round(y2, 3)))
}
long <- do.call(rbind, rows)
long$y[c(10, 500)] <- NA   # two missing outcomes
long$x[c(33)] <- NA        # a missing predictor: that row and its partner's row drop out
write.csv(long, "apim_diary_data.csv", row.names = FALSE, na = "")

d <- long
pm <- ave(d$x, d$person, FUN = function(v) mean(v, na.rm = TRUE))
gm <- mean(tapply(d$x, d$person, mean, na.rm = TRUE))
d$actor_within <- d$x - pm
d$actor_between <- pm - gm
key <- paste(d$dyad, d$day)
other <- function(col) {
  sapply(seq_len(nrow(d)), function(i) {
    j <- which(key == key[i] & d$person != d$person[i]); if (length(j)) d[[col]][j] else NA })
}
d$partner_within <- other("actor_within")
d$partner_between <- other("actor_between")
d <- d[complete.cases(d[, c("y", "actor_within", "partner_within", "actor_between", "partner_between")]), ]
d$member_1 <- as.numeric(d$role == "carer"); d$member_2 <- 1 - d$member_1
for (p in c("actor_within", "partner_within", "actor_between", "partner_between")) {
  d[[paste0("member_1_", p)]] <- d$member_1 * d[[p]]
  d[[paste0("member_2_", p)]] <- d$member_2 * d[[p]]
}
ctl <- lmeControl(msMaxIter = 500, msMaxEval = 20000)
dist <- lme(y ~ 0 + member_1 + member_2 + member_1_actor_within + member_1_partner_within +
              member_1_actor_between + member_1_partner_between + member_2_actor_within +
              member_2_partner_within + member_2_actor_between + member_2_partner_between,
            random = ~ 0 + member_1 + member_2 | dyad, weights = varIdent(form = ~ 1 | role),
            data = d, method = "REML", control = ctl)
tt <- summary(dist)$tTable
G <- getVarCov(dist)
out <- data.frame(model = "distinguishable", term = rownames(tt), estimate = tt[, 1], se = tt[, 2])
ind <- lmer(y ~ actor_within + partner_within + actor_between + partner_between +
              (0 + member_1 + member_2 | dyad), data = d, REML = TRUE)
s <- summary(ind)$coefficients
out <- rbind(out, data.frame(model = "indistinguishable", term = rownames(s), estimate = s[, 1], se = s[, 2]))
write.csv(out, "apim_diary_fixed_r.csv", row.names = FALSE)
ratio <- coef(dist$modelStruct$varStruct, unconstrained = FALSE)
vc <- data.frame(name = c("n_rows", "loglik_dist", "sigma_carer", "sigma_patient", "var_1", "var_2", "cov_12",
                          "reml_ind", "sigma_ind"),
                 value = c(nrow(d), as.numeric(logLik(dist)), dist$sigma, dist$sigma * ratio,
                           G[1, 1], G[2, 2], G[1, 2], REMLcrit(ind), sigma(ind)))
write.csv(vc, "apim_diary_varcomp_r.csv", row.names = FALSE)
print(vc); print(out)
