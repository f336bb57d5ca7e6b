# Reference values for tests/psychometrics, computed with R's psych package.
#
# Run from this folder:  Rscript make_reference.R
# Writes the datasets (CSV) and the expected values (expected.json) beside this script; both are
# committed, so the Python tests need no R. Made with R 4.2 and psych 2.2.9 (see "versions" in
# expected.json). Everything is deterministic (set.seed) so a re-run reproduces the files.
#
# Datasets:
#   scale_missing.csv     5 items (1-5), 300 respondents, about 4% of cells missing (simulated)
#   scale_congeneric.csv  8 items (1-7), 1000 respondents, unequal loadings (simulated)
#   scale_small.csv       3 items (0-10), 12 respondents (simulated)
#   diary_shrout.csv      Shrout & Lane (2012) toy diary: 5 persons x 4 times x 3 items, the data
#                         printed in psych::multilevel.reliability's examples
#   diary_simulated.csv   40 persons x 14 days x 4 items, every variance component positive
#   diary_negative.csv    8 persons x 5 days x 3 items of pure noise: some ANOVA components < 0
#   diary_unbalanced.csv  diary_simulated with 12% of the answers removed at random (for REML)
suppressPackageStartupMessages({
  library(psych)
  library(jsonlite)
})
stopifnot(packageVersion("psych") == "2.2.9")
set.seed(20061117)

likert <- function(x, lo, hi) pmin(hi, pmax(lo, round(x)))

simulate_scale <- function(n, loadings, lo, hi, centre, spread) {
  f <- rnorm(n)
  items <- sapply(loadings, function(l) likert(centre + spread * (l * f + sqrt(1 - l^2) * rnorm(n)), lo, hi))
  colnames(items) <- paste0("item_", seq_along(loadings))
  as.data.frame(items)
}

scales <- list()
d <- simulate_scale(300, c(0.8, 0.7, 0.75, 0.6, 0.5), 1, 5, 3, 1.1)
holes <- matrix(runif(length(as.matrix(d))) < 0.04, nrow(d))
d[holes] <- NA
scales$scale_missing <- d
scales$scale_congeneric <- simulate_scale(1000, c(0.85, 0.8, 0.7, 0.65, 0.6, 0.5, 0.4, 0.3), 1, 7, 4, 1.5)
scales$scale_small <- simulate_scale(12, c(0.9, 0.6, 0.4), 0, 10, 5, 2.5)

# The minres criterion sum_{i<j} (r_ij - l_i l_j)^2, minimised to convergence. psych's fa() stops
# its L-BFGS-B search earlier (and its gradient is not exactly that of its criterion), so these
# "tight" values are what the Python code, which converges to a gradient below 1e-12, must match.
minres_loadings_for <- function(R, psi) {
  S <- R
  diag(S) <- 1 - psi
  e <- eigen(S, symmetric = TRUE)
  e$vectors[, 1] * sqrt(max(e$values[1], 0))
}
tight_minres <- function(R) {
  off <- upper.tri(R)
  f <- function(l) sum(((R - tcrossprod(l))[off])^2)
  g <- function(l) {
    res <- R - tcrossprod(l)
    diag(res) <- 0
    -2 * as.vector(res %*% l)
  }
  h <- function(l) {
    H <- -2 * (R - 2 * tcrossprod(l))
    diag(H) <- 2 * (sum(l^2) - l^2)
    H
  }
  start <- as.vector(suppressWarnings(fa(R, 1, warnings = FALSE))$loadings)
  l <- nlminb(start, f, g, control = list(rel.tol = 1e-15, x.tol = 1e-15, eval.max = 1e4, iter.max = 1e4))$par
  for (step in 1:20) l <- l - solve(h(l), g(l)) # Newton polish: quadratic convergence
  if (max(l^2) > 1 - 0.005) {
    # Heywood case: psych's bounded criterion over uniquenesses in [0.005, 1]
    crit <- function(psi) f(minres_loadings_for(R, psi))
    psi <- nlminb(1 - smc(R), crit, lower = 0.005, upper = 1,
                  control = list(rel.tol = 1e-15, x.tol = 1e-15, eval.max = 1e5, iter.max = 1e5))$par
    l <- minres_loadings_for(R, psi)
  }
  if (sum(l) < 0) l <- -l
  list(loading = l, max_abs_gradient = max(abs(g(l))))
}

scale_reference <- function(x) {
  complete <- na.omit(x)
  n <- nrow(complete)
  k <- ncol(complete)
  a <- suppressWarnings(psych::alpha(complete, warnings = FALSE))
  ci90 <- alpha.ci(a$total$raw_alpha, n, k, p.val = 0.10)
  om <- suppressWarnings(suppressMessages(omega(complete, nfactors = 1, plot = FALSE)))
  f1 <- suppressWarnings(fa(complete, nfactors = 1))
  R <- cor(complete)
  fit <- tight_minres(R)
  l <- fit$loading
  u2 <- 1 - l^2
  list(
    n = n, n_excluded = nrow(x) - n, k = k,
    alpha = a$total$raw_alpha, std_alpha = a$total$std.alpha, average_r = a$total$average_r,
    ase = a$total$ase,
    ci95_low = unname(unlist(a$feldt$lower.ci)), ci95_high = unname(unlist(a$feldt$upper.ci)),
    ci90_low = ci90$lower.ci, ci90_high = ci90$upper.ci,
    items = list(
      item = colnames(complete),
      mean = unname(a$item.stats$mean), sd = unname(a$item.stats$sd),
      r_total = unname(a$item.stats$raw.r), r_drop = unname(a$item.stats$r.drop),
      alpha_if_deleted = unname(a$alpha.drop$raw_alpha)
    ),
    psych_omega = list(omega_total = om$omega.tot, omega_h = om$omega_h),
    psych_fa = list(loading = as.vector(f1$loadings), uniqueness = unname(f1$uniquenesses), rmsr = f1$rms),
    tight = list(
      loading = l, uniqueness = u2, heywood = max(l^2) > 1 - 0.005,
      max_abs_gradient = fit$max_abs_gradient,
      omega_total = (sum(R) - sum(u2)) / sum(R),
      omega_h = sum(l)^2 / sum(R),
      omega_implied = sum(l)^2 / (sum(l)^2 + sum(u2))
    )
  )
}

shrout <- data.frame(
  Person = rep(1:5, 4), Time = rep(1:4, each = 5),
  Item1 = c(2, 3, 6, 3, 7, 3, 5, 6, 3, 8, 4, 4, 7, 5, 6, 1, 5, 8, 8, 6),
  Item2 = c(3, 4, 6, 4, 8, 3, 7, 7, 5, 8, 2, 6, 8, 6, 7, 3, 9, 9, 7, 8),
  Item3 = c(6, 4, 5, 3, 7, 4, 7, 8, 9, 9, 5, 7, 9, 7, 8, 4, 7, 9, 9, 6)
)
to_long <- function(wide) {
  items <- grep("^Item", names(wide), value = TRUE)
  long <- do.call(rbind, lapply(items, function(i) data.frame(person = wide$Person, day = wide$Time, item = i, value = wide[[i]])))
  long[order(long$person, long$day, long$item), ]
}

simulate_diary <- function(P, T, K, sd) {
  grid <- expand.grid(item = seq_len(K), day = seq_len(T), person = seq_len(P))
  p <- rnorm(P, 0, sd[["person"]]); t <- rnorm(T, 0, sd[["time"]]); i <- rnorm(K, 0, sd[["item"]])
  pt <- matrix(rnorm(P * T, 0, sd[["pt"]]), P); pi <- matrix(rnorm(P * K, 0, sd[["pi"]]), P)
  ti <- matrix(rnorm(T * K, 0, sd[["ti"]]), T)
  v <- with(grid, 4 + p[person] + t[day] + i[item] + pt[cbind(person, day)] + pi[cbind(person, item)] +
    ti[cbind(day, item)] + rnorm(nrow(grid), 0, sd[["e"]]))
  data.frame(person = grid$person, day = grid$day, item = paste0("Item", grid$item), value = round(v, 3))
}

diaries <- list(
  diary_shrout = to_long(shrout),
  diary_simulated = simulate_diary(40, 14, 4, c(person = 1, time = 0.3, item = 0.5, pt = 0.7, pi = 0.4, ti = 0.2, e = 0.8)),
  diary_negative = simulate_diary(8, 5, 3, c(person = 0, time = 0, item = 0, pt = 0, pi = 0, ti = 0, e = 1))
)
diaries$diary_unbalanced <- diaries$diary_simulated[runif(nrow(diaries$diary_simulated)) > 0.12, ]

# REML fits by lme4 with a tight optimiser (psych's lmer path uses lme4's defaults), reported
# per factor as variance and relative sd theta = sd / sigma, with lme4's REML criterion.
tight_lmer <- function(formula, data) {
  control <- lme4::lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5),
                               check.conv.singular = "ignore")
  m <- suppressMessages(lme4::lmer(formula, data = data, REML = TRUE, control = control))
  vc <- as.data.frame(lme4::VarCorr(m))
  sigma2 <- vc$vcov[vc$grp == "Residual"]
  parts <- vc[vc$grp != "Residual", ]
  list(variance = as.list(setNames(parts$vcov, parts$grp)),
       theta = as.list(setNames(sqrt(parts$vcov / sigma2), parts$grp)),
       residual = sigma2, reml_criterion = unname(lme4::REMLcrit(m)))
}

components <- function(m) {
  v <- m$components$variance
  list(var_person = v[1], var_time = v[2], var_item = v[3], var_person_time = v[4],
       var_person_item = v[5], var_time_item = v[6], var_residual = v[7])
}

diary_reference <- function(long) {
  # psych's long-format interface (long = TRUE) passes the columns to aov() as they are: numeric
  # person and day columns would be fitted as 1-df covariates, so they must be factors here.
  long <- transform(long, person = factor(person), day = factor(day), item = factor(item))
  aov_fit <- suppressWarnings(mlr(long, grp = "person", Time = "day", items = "item", values = "value", long = TRUE, plot = FALSE))
  lmer_fit <- suppressWarnings(suppressMessages(mlr(long, grp = "person", Time = "day", items = "item", values = "value",
    long = TRUE, lmer = TRUE, plot = FALSE)))
  # nested components exactly, from the mean squares of the nested ANOVA (psych rounds its lme
  # components to 7 significant digits, through print formatting)
  ms <- summary(aov(value ~ person + person:day, data = long))[[1]][["Mean Sq"]]
  T <- aov_fit$n.time; K <- aov_fit$n.items
  nested <- list(var_nested_person = (ms[1] - ms[2]) / (T * K), var_nested_time = (ms[2] - ms[3]) / K,
                 var_nested_residual = ms[3])
  coefs <- function(m) list(r_kf = m$RkF, r_1r = m$R1R, r_kr = m$RkR, r_c = m$Rc, r_krn = m$RkRn, r_cn = m$Rcn)
  reml <- list(
    crossed = tight_lmer(value ~ 1 + (1 | person) + (1 | day) + (1 | item) + (1 | person:day) +
                           (1 | person:item) + (1 | day:item), long),
    nested = tight_lmer(value ~ 1 + (1 | person) + (1 | person:day), long)
  )
  list(
    n_persons = aov_fit$n.obs, n_times = T, n_items = K,
    psych_aov = c(coefs(aov_fit), components(aov_fit),
      list(var_nested_person = aov_fit$components["id", 1], var_nested_time = aov_fit$components["id(time)", 1],
           var_nested_residual = aov_fit$components["residual", 1])),
    psych_lmer = c(coefs(lmer_fit), components(lmer_fit)),
    nested_anova = nested,
    reml = reml
  )
}

expected <- list(
  versions = list(R = R.version.string, psych = as.character(packageVersion("psych")),
                  lme4 = as.character(packageVersion("lme4")), nlme = as.character(packageVersion("nlme"))),
  scales = list(), diaries = list()
)
for (name in names(scales)) {
  write.csv(scales[[name]], paste0(name, ".csv"), row.names = FALSE, na = "")
  expected$scales[[name]] <- scale_reference(scales[[name]])
}
for (name in names(diaries)) {
  write.csv(diaries[[name]], paste0(name, ".csv"), row.names = FALSE)
  expected$diaries[[name]] <- diary_reference(diaries[[name]])
}
writeLines(toJSON(expected, auto_unbox = TRUE, digits = NA, pretty = TRUE), "expected.json")
cat("wrote expected.json and", length(scales) + length(diaries), "datasets\n")
