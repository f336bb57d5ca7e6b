# Reference values for tests/analysis/test_mixed*.py, produced with R 4.2, lme4 1.1-31, nlme 3.1.
#
#   cd tests/analysis/reference && Rscript make_reference.R
#
# Writes the datasets (CSV) and, per model, estimates, standard errors, variance components,
# sigma, the REML criterion or deviance, logLik and theta to lmm_reference.json. The tests read
# only these committed files (CI has no R).
#
# Optimiser tolerances are tightened (nloptwrap with xtol/ftol 1e-12/1e-14) so that the values
# are the optimum itself rather than lme4's default stopping point (which agrees to ~1e-6).
#
# Satterthwaite degrees of freedom: lmerTest is not installed here, so its algorithm
# (Kuznetsova et al. 2017) is written out below on lme4's own deviance function: the deviance as
# a function of varpar = (theta, sigma), its Hessian and the Jacobian of Var(beta) by
# Richardson-extrapolated central differences, df = 2 Var(beta_j)^2 / (g' (2 H^-1) g).
#
# sleepstudy (Belenky et al. 2003) ships with lme4 (GPL-2 | GPL-3); the reaction times are
# measured facts, exported here as data only.

suppressMessages({
  library(lme4)
  library(nlme)
  library(jsonlite)
})

tight <- lmerControl(optimizer = "nloptwrap",
                     optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-14, xtol_rel = 1e-12,
                                    ftol_rel = 1e-15, maxeval = 1e5),
                     check.conv.singular = "ignore")

# ---------------------------------------------------------------- datasets
sleep <- lme4::sleepstudy
sleep$Subject <- as.character(sleep$Subject)
write.csv(sleep, "sleepstudy.csv", row.names = FALSE)

set.seed(20240501)
G <- 150
sizes <- sample(4:30, G, replace = TRUE)
g <- rep(sprintf("p%03d", seq_len(G)), sizes)
n <- length(g)
idx <- rep(seq_len(G), sizes)
b <- MASS::mvrnorm(G, c(0, 0), matrix(c(1, 0.3, 0.3, 0.25), 2))
x1 <- rnorm(n)
x2 <- rnorm(n)
grp <- sample(c("a", "b", "c"), n, replace = TRUE)
y <- 1 + 0.5 * x1 - 0.3 * x2 + 0.4 * (grp == "b") + b[idx, 1] + b[idx, 2] * x1 + rnorm(n)
slopes <- data.frame(g = g, x1 = round(x1, 6), x2 = round(x2, 6), grp = grp, y = round(y, 6))
write.csv(slopes, "slopes.csv", row.names = FALSE)

# dyadic diary: 60 dyads, both partners report 12 days; distinguishable roles
D <- 60; days <- 12
dyad <- rep(sprintf("d%02d", seq_len(D)), each = 2 * days)
role <- rep(rep(c(1, 2), each = days), D)
u <- MASS::mvrnorm(D, c(0, 0), matrix(c(1, 0.5, 0.5, 0.8), 2))
di <- rep(seq_len(D), each = 2 * days)
xd <- rnorm(length(dyad))
yd <- ifelse(role == 1, 3 + u[di, 1] + 0.4 * xd, 2.5 + u[di, 2] + 0.2 * xd) + rnorm(length(dyad))
dyadic <- data.frame(dyad = dyad, role1 = as.numeric(role == 1), role2 = as.numeric(role == 2),
                     x = round(xd, 6), y = round(yd, 6))
write.csv(dyadic, "dyadic.csv", row.names = FALSE)

# stacked 1-1-1 mediation data (Bauer, Preacher & Gil 2006): each person-day gives two rows,
# the mediator (Sm = 1) and the outcome (Sy = 1), with separate residual variances.
P <- 80; n_days <- 15
id <- rep(sprintf("s%02d", seq_len(P)), each = n_days)
pidx <- rep(seq_len(P), each = n_days)
ab <- MASS::mvrnorm(P, c(0.5, 0.4), matrix(c(0.04, 0.015, 0.015, 0.04), 2))
xm <- rnorm(P * n_days)
mm <- 0.2 * rnorm(P)[pidx] + ab[pidx, 1] * xm + rnorm(P * n_days, sd = 0.8)
ym <- 0.3 * rnorm(P)[pidx] + ab[pidx, 2] * mm + 0.1 * xm + rnorm(P * n_days, sd = 1.3)
stacked <- rbind(
  data.frame(id = id, dv = "m", z = mm, Sm = 1, Sy = 0, x = xm, m = 0),
  data.frame(id = id, dv = "y", z = ym, Sm = 0, Sy = 1, x = xm, m = mm)
)
stacked$z <- round(stacked$z, 6); stacked$x <- round(stacked$x, 6); stacked$m <- round(stacked$m, 6)
write.csv(stacked, "stacked.csv", row.names = FALSE)

# no real differences between groups in the slope of x: lme4 reports a singular fit
set.seed(9)
Gs <- 40
gs <- rep(sprintf("q%02d", seq_len(Gs)), each = 6)
xs <- rnorm(length(gs))
ys <- 2 + 0.3 * xs + rnorm(Gs, sd = 0.7)[rep(seq_len(Gs), each = 6)] + rnorm(length(gs))
singular <- data.frame(g = gs, x = round(xs, 6), y = round(ys, 6))
write.csv(singular, "singular.csv", row.names = FALSE)

# mediation.csv is not simulated here: it was written by Python (benchmarks/lmm.py,
# simulate_mediation(100), rounded to 4 decimals) because lme4's optimum on it is a case where
# L-BFGS-B from lme4's start (Lambda = I) stalls on the boundary, 18 units worse; committed.
mediation <- read.csv("mediation.csv")

# ---------------------------------------------------------------- helpers
satterthwaite <- function(fit, formula, data) {
  reml <- isREML(fit)
  devfun <- lmer(formula, data = data, REML = reml, control = tight, devFunOnly = TRUE)
  env <- environment(devfun)
  n <- nrow(model.matrix(fit)); p <- ncol(model.matrix(fit))
  dev_vp <- function(vp) {
    th <- vp[-length(vp)]; s <- vp[length(vp)]
    devfun(th)
    pp <- env$pp; resp <- env$resp
    pwrss <- resp$wrss() + pp$sqrL(1)
    d <- pp$ldL2() + pwrss / s^2
    if (reml) d + pp$ldRX2() + (n - p) * log(2 * pi * s^2) else d + n * log(2 * pi * s^2)
  }
  vcov_vp <- function(vp) {
    devfun(vp[-length(vp)])
    vp[length(vp)]^2 * chol2inv(env$pp$RX())
  }
  vp <- c(getME(fit, "theta"), sigma(fit))
  k <- length(vp)
  h0 <- 1e-3 * pmax(abs(vp), 1e-2)
  rich <- function(f, i, j) {          # Richardson extrapolation of second differences
    est <- function(h) {
      ei <- replace(numeric(k), i, h[i]); ej <- replace(numeric(k), j, h[j])
      if (i == j) (f(vp + ei) - 2 * f(vp) + f(vp - ei)) / h[i]^2
      else (f(vp + ei + ej) - f(vp + ei - ej) - f(vp - ei + ej) + f(vp - ei - ej)) / (4 * h[i] * h[j])
    }
    (4 * est(h0 / 2) - est(h0)) / 3
  }
  H <- matrix(0, k, k)
  for (i in 1:k) for (j in i:k) { H[i, j] <- rich(dev_vp, i, j); H[j, i] <- H[i, j] }
  A <- 2 * solve(H)
  jac <- matrix(0, k, p)
  for (i in 1:k) {
    d1 <- function(h) {
      e <- replace(numeric(k), i, h)
      (diag(vcov_vp(vp + e)) - diag(vcov_vp(vp - e))) / (2 * h)
    }
    jac[i, ] <- (4 * d1(h0[i] / 2) - d1(h0[i])) / 3
  }
  v <- diag(vcov_vp(vp))
  devfun(getME(fit, "theta"))
  2 * v^2 / colSums(jac * (A %*% jac))
}

lmer_entry <- function(name, formula, data, reml, file) {
  t0 <- proc.time()[["elapsed"]]
  fit <- lmer(formula, data = data, REML = reml, control = tight)
  co <- summary(fit)$coefficients
  vc <- as.data.frame(VarCorr(fit))
  df <- satterthwaite(fit, formula, data)
  list(
    name = name, file = file, formula = paste(deparse(formula), collapse = ""),
    reml = reml, engine = "lme4",
    fixed = data.frame(term = rownames(co), estimate = co[, 1], se = co[, 2], df = unname(df),
                       row.names = NULL),
    random = data.frame(group = vc$grp, var1 = vc$var1, var2 = vc$var2, vcov = vc$vcov,
                        sdcor = vc$sdcor),
    sigma = sigma(fit),
    reml_criterion = if (reml) REMLcrit(fit) else NA,
    deviance = if (reml) REMLcrit(fit) else deviance(fit),
    loglik = as.numeric(logLik(fit)),
    theta = unname(getME(fit, "theta")),
    singular = isSingular(fit),
    ranef = {
      re <- ranef(fit)[[1]]
      data.frame(group = rep(rownames(re), each = ncol(re)),
                 term = rep(colnames(re), nrow(re)),
                 estimate = as.vector(t(as.matrix(re))))
    }
  )
}

lme_entry <- function(name, fixed, random, data, reml, file, formula_text) {
  fit <- lme(fixed, random = random, data = data, method = if (reml) "REML" else "ML",
             weights = varIdent(form = ~ 1 | dv),
             control = lmeControl(maxIter = 500, msMaxIter = 500, tolerance = 1e-10,
                                  msTol = 1e-12, niterEM = 100, opt = "nlminb"))
  tt <- summary(fit)$tTable
  ratios <- coef(fit$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)
  sds <- sigma(fit) * ratios
  vc <- getVarCov(fit)
  names_re <- colnames(vc)
  rows <- list()
  for (i in seq_along(names_re))
    rows[[length(rows) + 1]] <- data.frame(group = "id", var1 = names_re[i], var2 = NA,
                                           vcov = vc[i, i], sdcor = sqrt(vc[i, i]))
  if (length(names_re) > 1) for (i in 1:(length(names_re) - 1)) for (j in (i + 1):length(names_re))
    rows[[length(rows) + 1]] <- data.frame(group = "id", var1 = names_re[i], var2 = names_re[j],
                                           vcov = vc[i, j], sdcor = vc[i, j] / sqrt(vc[i, i] * vc[j, j]))
  for (lev in names(sds))
    rows[[length(rows) + 1]] <- data.frame(group = "Residual", var1 = lev, var2 = NA,
                                           vcov = sds[[lev]]^2, sdcor = sds[[lev]])
  # nlme's REML log-likelihood omits lme4's log|X'X|-free constant? Record both forms:
  # lme4's REML criterion = -2 logLik(lme, REML) here (checked in the tests on a model both fit).
  list(
    name = name, file = file, formula = formula_text, reml = reml, engine = "nlme",
    residual_groups = "dv",
    fixed = data.frame(term = rownames(tt), estimate = tt[, 1], se = tt[, 2], row.names = NULL),
    random = do.call(rbind, rows),
    sigma = sigma(fit),
    reml_criterion = if (reml) -2 * as.numeric(logLik(fit)) else NA,
    deviance = -2 * as.numeric(logLik(fit)),
    loglik = as.numeric(logLik(fit)),
    residual_sd = as.list(sds)
  )
}

# ---------------------------------------------------------------- models
entries <- list()
add <- function(e) entries[[length(entries) + 1]] <<- e
for (reml in c(TRUE, FALSE)) {
  tag <- if (reml) "reml" else "ml"
  add(lmer_entry(paste0("sleep_intercept_", tag), Reaction ~ Days + (1 | Subject), sleep, reml,
                 "sleepstudy.csv"))
  add(lmer_entry(paste0("sleep_slope_", tag), Reaction ~ Days + (Days | Subject), sleep, reml,
                 "sleepstudy.csv"))
  add(lmer_entry(paste0("slopes_", tag), y ~ x1 + x2 + grp + (1 + x1 | g), slopes, reml,
                 "slopes.csv"))
  add(lmer_entry(paste0("slope_only_", tag), y ~ x1 * x2 + (0 + x1 | g), slopes, reml,
                 "slopes.csv"))
  add(lmer_entry(paste0("dyadic_", tag),
                 y ~ 0 + role1 + role2 + role1:x + role2:x + (0 + role1 + role2 | dyad),
                 dyadic, reml, "dyadic.csv"))
  add(lmer_entry(paste0("singular_", tag), y ~ x + (1 + x | g), singular, reml, "singular.csv"))
  add(lmer_entry(paste0("sleep_uncorrelated_", tag), Reaction ~ Days + (Days || Subject), sleep,
                 reml, "sleepstudy.csv"))
  add(lmer_entry(paste0("stacked_four_effects_", tag),
                 z ~ 0 + Sm + Sy + Sm:x + Sy:m + Sy:x + (0 + Sm + Sy + Sm:x + Sy:m | id),
                 stacked, reml, "stacked.csv"))
  add(lmer_entry(paste0("mediation_four_effects_", tag),
                 z ~ 0 + Sm + Sy + Sm:x + Sy:m + Sy:x + (0 + Sm + Sy + Sm:x + Sy:m | id),
                 mediation, reml, "mediation.csv"))
  add(lmer_entry(paste0("slopes_two_blocks_", tag), y ~ x1 + x2 + (1 | g) + (0 + x1 | g), slopes,
                 reml, "slopes.csv"))
  add(lme_entry(paste0("varident_intercept_", tag), z ~ 0 + Sm + Sy + Sm:x + Sy:m + Sy:x,
                ~ 0 + Sm + Sy | id, stacked, reml, "stacked.csv",
                "z ~ 0 + Sm + Sy + Sm:x + Sy:m + Sy:x + (0 + Sm + Sy | id)"))
  add(lme_entry(paste0("varident_mediation_", tag), z ~ 0 + Sm + Sy + Sm:x + Sy:m + Sy:x,
                ~ 0 + Sm + Sy + Sm:x + Sy:m | id, stacked, reml, "stacked.csv",
                "z ~ 0 + Sm + Sy + Sm:x + Sy:m + Sy:x + (0 + Sm + Sy + Sm:x + Sy:m | id)"))
}

# nlme and lme4 on the same model without weights: how their criteria relate.
fit4 <- lmer(Reaction ~ Days + (Days | Subject), sleep, control = tight)
fitn <- lme(Reaction ~ Days, random = ~ Days | Subject, data = sleep,
            control = lmeControl(tolerance = 1e-10, msTol = 1e-12, opt = "nlminb"))
check <- list(lme4_remlcrit = REMLcrit(fit4), nlme_minus2loglik = -2 * as.numeric(logLik(fitn)))

out <- list(
  generated_by = "tests/analysis/reference/make_reference.R",
  r_version = R.version.string,
  lme4_version = as.character(packageVersion("lme4")),
  nlme_version = as.character(packageVersion("nlme")),
  criterion_check = check,
  models = entries
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE),
           "lmm_reference.json")
cat("wrote", length(entries), "models\n")
print(check, digits = 12)
