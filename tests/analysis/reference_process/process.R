# Reference values for attunement.analysis.process_model and mediation_111.
# Run from this folder: Rscript process.R   (R 4.2, lme4 1.1-31, nlme 3.1-162)
suppressPackageStartupMessages({library(lme4); library(nlme); library(MASS)})
set.seed(20260523)
n_person <- 150
occasions <- 14
rows <- list()
G <- matrix(c(
  0.50, 0.10, 0.00, 0.00, 0.00,   # d_M
  0.10, 0.60, 0.00, 0.00, 0.00,   # d_Y
  0.00, 0.00, 0.09, 0.045, 0.00,  # a_i
  0.00, 0.00, 0.045, 0.09, 0.00,  # b_i  (cov(a_i, b_i) = 0.045)
  0.00, 0.00, 0.00, 0.00, 0.03),  # c'_i
  5, byrow = TRUE)
for (i in seq_len(n_person)) {
  u <- mvrnorm(1, rep(0, 5), G)
  mu_x <- rnorm(1, 4, 0.8)
  k <- occasions - sample(0:3, 1)          # unbalanced: 11 to 14 occasions
  emo <- round(mu_x + rnorm(k, 0, 1), 2)
  fact <- round(rnorm(1, 4.5, 0.6) + 0.3 * (emo - mu_x) + rnorm(k, 0, 0.9), 2)
  part <- round(rnorm(1, 4, 0.7) + rnorm(k, 0, 1), 2)
  u_f <- rnorm(1, 0, 0.2); u_p <- rnorm(1, 0, 0.2)
  a <- 0.40 + u[3]; b <- 0.50 + u[4]; cp <- 0.15 + u[5]
  resp <- 3 + u[1] + a * (emo - mu_x) + 0.3 * (mu_x - 4) + 0.15 * (part - 4) + rnorm(k, 0, 0.6)
  m_mean <- mean(resp)
  intim <- 2 + u[2] + b * (resp - m_mean) + cp * (emo - mu_x) + 0.4 * (m_mean - 3) +
    0.2 * (mu_x - 4) + (0.1 + u_f) * (fact - 4.5) + (0.25 + u_p) * (part - 4) + rnorm(k, 0, 0.8)
  rows[[i]] <- data.frame(person = sprintf("p%03d", i), occasion = seq_len(k),
    emotional_disclosure = emo, factual_disclosure = fact, partner_disclosure = part,
    responsiveness = round(resp, 3), intimacy = round(intim, 3))
}
d <- do.call(rbind, rows)
d$intimacy[c(7, 300)] <- NA   # two missing outcomes (listwise deletion)
write.csv(d, "process_data.csv", row.names = FALSE, na = "")

cc <- d[complete.cases(d), ]
# ----------------------------------------------------------------- intimacy model (lme4)
centre <- function(v, g) {
  pm <- ave(v, g)
  list(within = v - pm, between = pm - mean(tapply(v, g, mean)))
}
for (v in c("emotional", "factual", "partner")) {
  s <- centre(cc[[paste0(v, "_disclosure")]], cc$person)
  cc[[paste0(v, "_within")]] <- s$within
  cc[[paste0(v, "_between")]] <- s$between
}
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5))
f_slopes <- intimacy ~ emotional_within + emotional_between + factual_within + factual_between +
  partner_within + partner_between + (1 + emotional_within + factual_within + partner_within | person)
f_int <- update(f_slopes, . ~ . - (1 + emotional_within + factual_within + partner_within | person) + (1 | person))
out <- list()
for (nm in c("slopes", "intercept")) {
  fit <- lmer(if (nm == "slopes") f_slopes else f_int, data = cc, REML = TRUE, control = ctrl)
  s <- summary(fit)$coefficients
  vc <- as.data.frame(VarCorr(fit))
  out[[nm]] <- list(
    fixed = data.frame(term = rownames(s), estimate = s[, 1], se = s[, 2]),
    varcor = vc, reml_criterion = unname(REMLcrit(fit)), singular = isSingular(fit),
    vcov_ef = as.matrix(vcov(fit))[c("emotional_within", "factual_within"),
                                   c("emotional_within", "factual_within")])
}
write.csv(out$slopes$fixed, "process_slopes_fixed_r.csv", row.names = FALSE)
write.csv(out$slopes$varcor, "process_slopes_varcor_r.csv", row.names = FALSE)
write.csv(out$intercept$fixed, "process_intercept_fixed_r.csv", row.names = FALSE)
writeLines(c("name,value", sprintf("reml_slopes,%.12f", out$slopes$reml_criterion),
             sprintf("reml_intercept,%.12f", out$intercept$reml_criterion),
             sprintf("contrast_se_slopes,%.12f", sqrt(sum(c(1, -1) * out$slopes$vcov_ef %*% c(1, -1))))),
           "process_criteria_r.csv")

# ----------------------------------------------------------------- 1-1-1 mediation (nlme)
sx <- centre(cc$emotional_disclosure, cc$person)
sm <- centre(cc$responsiveness, cc$person)
n <- nrow(cc)
st <- data.frame(
  person = rep(cc$person, 2),
  equation = rep(c("mediator", "outcome"), each = n),
  z = c(cc$responsiveness, cc$intimacy),
  s_m = rep(c(1, 0), each = n), s_y = rep(c(0, 1), each = n))
st$a_path <- st$s_m * rep(sx$within, 2)
st$b_path <- st$s_y * rep(sm$within, 2)
st$c_path <- st$s_y * rep(sx$within, 2)
st$s_m_x_between <- st$s_m * rep(sx$between, 2)
st$s_y_m_between <- st$s_y * rep(sm$between, 2)
st$s_y_x_between <- st$s_y * rep(sx$between, 2)
write.csv(st, "mediation_stacked_r.csv", row.names = FALSE)
# The mediator's person mean (s_y_m_between, kept in the CSV for the engine's Satterthwaite test)
# is NOT in the outcome equation: beside the correlated random intercepts of M and Y it is not
# identified (see process.py). X's person mean enters both equations.
med <- lme(z ~ 0 + s_m + s_y + a_path + b_path + c_path + s_m_x_between + s_y_x_between,
           random = ~ 0 + s_m + s_y + a_path + b_path + c_path | person,
           weights = varIdent(form = ~ 1 | equation), data = st, method = "REML",
           control = lmeControl(msMaxIter = 500, msMaxEval = 20000, .relStep = 1e-3))
# (.relStep = 1e-3: with the default step nlme's numerical Hessian is not positive definite here)
tt <- summary(med)$tTable
G_hat <- getVarCov(med)
sig <- med$sigma
ratio <- coef(med$modelStruct$varStruct, unconstrained = FALSE)
# The SE of sigma_ab = cor_ab * sd_a * sd_b by the delta method from nlme's apVar
# (observed information; parameters: log sds, atanh-type correlations, log sigma).
stopifnot(is.matrix(med$apVar))
pars <- attr(med$apVar, "Pars")
# pdNatural order: log sd of the 5 effects, then log((1 + r) / (1 - r)) of the correlations
# row-wise over the upper triangle: (1,2) (1,3) (1,4) (1,5) (2,3) (2,4) (2,5) (3,4) ...
i_sd_a <- 3; i_sd_b <- 4; i_cor <- 13
sd_a <- exp(pars[i_sd_a]); sd_b <- exp(pars[i_sd_b])
r_ab <- (exp(pars[i_cor]) - 1) / (exp(pars[i_cor]) + 1)
grad <- rep(0, length(pars))
grad[i_sd_a] <- r_ab * sd_a * sd_b
grad[i_sd_b] <- r_ab * sd_a * sd_b
grad[i_cor] <- sd_a * sd_b * 2 * exp(pars[i_cor]) / (exp(pars[i_cor]) + 1)^2
se_sab <- sqrt(drop(t(grad) %*% med$apVar %*% grad))
# Between-person M -> Y slope of the latent person means: b_B = cov(d_M, d_Y) / var(d_M)
# = r_12 sd_Y / sd_M; its SE by the delta method (log sds 1, 2; correlation (1, 2) is par 6).
r_my <- (exp(pars[6]) - 1) / (exp(pars[6]) + 1)
b_between <- r_my * exp(pars[2]) / exp(pars[1])
grad_b <- rep(0, length(pars))
grad_b[1] <- -b_between
grad_b[2] <- b_between
grad_b[6] <- exp(pars[2]) / exp(pars[1]) * 2 * exp(pars[6]) / (exp(pars[6]) + 1)^2
se_b_between <- sqrt(drop(t(grad_b) %*% med$apVar %*% grad_b))

res <- data.frame(term = rownames(tt), estimate = tt[, 1], se = tt[, 2], row.names = NULL)
write.csv(res, "mediation_fixed_r.csv", row.names = FALSE)
vc <- data.frame(name = c("sigma_ab", "sigma_ab_check", "se_sigma_ab", "sd_a", "sd_b", "sigma_mediator",
                          "sigma_outcome", "loglik", "b_between", "se_b_between"),
                 value = c(G_hat["a_path", "b_path"], r_ab * sd_a * sd_b, se_sab,
                           sqrt(G_hat["a_path", "a_path"]), sqrt(G_hat["b_path", "b_path"]),
                           sig, sig * ratio, as.numeric(logLik(med)),
                           b_between, se_b_between))
write.csv(vc, "mediation_varcomp_r.csv", row.names = FALSE)
write.csv(as.matrix(G_hat[1:5, 1:5]), "mediation_G_r.csv")

# Monte Carlo CI as Selig & Preacher (2008), with R's own generator: 200,000 draws
V <- vcov(med)[c("a_path", "b_path", "c_path"), c("a_path", "b_path", "c_path")]
set.seed(1)
dr <- mvrnorm(200000, tt[c("a_path", "b_path", "c_path"), 1], V)
sab <- rnorm(200000, G_hat["a_path", "b_path"], se_sab)
ind <- dr[, 1] * dr[, 2] + sab
write.csv(data.frame(quantity = c("indirect", "total"),
                     estimate = c(tt["a_path", 1] * tt["b_path", 1] + G_hat["a_path", "b_path"],
                                  tt["a_path", 1] * tt["b_path", 1] + G_hat["a_path", "b_path"] + tt["c_path", 1]),
                     ci_low = c(quantile(ind, 0.025), quantile(ind + dr[, 3], 0.025)),
                     ci_high = c(quantile(ind, 0.975), quantile(ind + dr[, 3], 0.975)),
                     sd = c(sd(ind), sd(ind + dr[, 3]))),
          "mediation_mc_r.csv", row.names = FALSE)
print(attr(med$apVar, "Pars"))
print(vc)
