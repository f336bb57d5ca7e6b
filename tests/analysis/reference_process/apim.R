# Reference values for attunement.analysis.apim (cross-sectional APIM) and dyad_asymmetry.
# Run from this folder: Rscript apim.R   (R 4.2, nlme 3.1)
suppressPackageStartupMessages(library(nlme))
set.seed(20260522)
n <- 120
x1 <- rnorm(n, 3, 1); x2 <- 0.4 * x1 + rnorm(n, 2, 1)
e <- MASS::mvrnorm(n, c(0, 0), matrix(c(1, 0.35 * 1 * 1.4, 0.35 * 1 * 1.4, 1.96), 2))
y1 <- 1 + 0.5 * x1 + 0.2 * x2 + e[, 1]
y2 <- 2 + 0.3 * x2 + 0.25 * x1 + e[, 2]
long <- data.frame(
  dyad = rep(sprintf("d%03d", 1:n), each = 2),
  person = as.vector(rbind(sprintf("d%03d-a", 1:n), sprintf("d%03d-b", 1:n))),
  role = rep(c("carer", "patient"), n),
  x = round(as.vector(rbind(x1, x2)), 3),
  y = round(as.vector(rbind(y1, y2)), 3)
)
# incomplete dyads: two outcomes missing (the person stays out, the partner stays in)
long$y[c(5, 18)] <- NA
write.csv(long, "apim_data.csv", row.names = FALSE, na = "")

d <- long
d$x_partner <- ave(d$x, d$dyad, FUN = function(v) rev(v))
d$x_actor <- d$x
d$r <- ifelse(d$role == "carer", 1L, 2L)
d$role <- factor(d$role)
d <- d[!is.na(d$y), ]
out <- list()
tab <- function(fit, label) {
  s <- summary(fit)$tTable
  data.frame(model = label, term = rownames(s), estimate = s[, 1], se = s[, 2],
             t = s[, 3], p_val = s[, 4], row.names = NULL)
}
for (method in c("REML", "ML")) {
  dist <- gls(y ~ 0 + role + role:x_actor + role:x_partner, data = d, method = method,
              correlation = corSymm(form = ~ r | dyad), weights = varIdent(form = ~ 1 | role),
              control = glsControl(tolerance = 1e-10, msTol = 1e-10, maxIter = 500, msMaxIter = 500))
  sig <- dist$sigma * c(1, coef(dist$modelStruct$varStruct, unconstrained = FALSE))
  names(sig) <- c("carer", levels(d$role)[levels(d$role) != "carer"])
  rho <- coef(dist$modelStruct$corStruct, unconstrained = FALSE)
  out[[length(out) + 1]] <- cbind(tab(dist, paste0("distinguishable_", method)),
    sigma_carer = unname(sig["carer"]), sigma_patient = unname(sig["patient"]),
    rho = unname(rho), loglik = as.numeric(logLik(dist)), df = dist$dims$N - dist$dims$p)
  ind <- gls(y ~ x_actor + x_partner, data = d, method = method,
             correlation = corCompSymm(form = ~ 1 | dyad),
             control = glsControl(tolerance = 1e-10, msTol = 1e-10))
  out[[length(out) + 1]] <- cbind(tab(ind, paste0("indistinguishable_", method)),
    sigma_carer = ind$sigma, sigma_patient = ind$sigma,
    rho = unname(coef(ind$modelStruct$corStruct, unconstrained = FALSE)),
    loglik = as.numeric(logLik(ind)), df = ind$dims$N - ind$dims$p)
}
res <- do.call(rbind, out)
write.csv(res, "apim_r.csv", row.names = FALSE)

# asymmetry: per dyad difference carer - patient in x, SD of all individual x
a <- reshape(long[, c("dyad", "role", "x")], idvar = "dyad", timevar = "role", direction = "wide")
a$difference <- a$x.carer - a$x.patient
a$std_difference <- a$difference / sd(long$x)
write.csv(a[, c("dyad", "difference", "std_difference")], "asymmetry_r.csv", row.names = FALSE)
