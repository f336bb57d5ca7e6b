# Satterthwaite degrees of freedom for linear mixed models with separate residual variances
# (nlme's varIdent), for tests/analysis/test_mixed_satterthwaite.py. R 4.2, nlme 3.1-162.
#
#   cd tests/analysis/reference && Rscript satterthwaite_varident.R
#
# lmerTest cannot fit varIdent models (and is not installed here), so its algorithm (Kuznetsova,
# Brockhoff & Christensen 2017) is written out independently of attunement's code:
#
# * nlme::lme(..., weights = varIdent(form = ~ 1 | stratum), method = "REML") gives the fit;
# * the REML deviance is written out here from the model matrices, group by group, in the
#   *natural* variance parameters vp = (the distinct elements of the random-effects covariance
#   matrix D, the residual variance of every stratum): V_i = Z_i D Z_i' + diag(s2[stratum]),
#   -2 l_R = sum log|V_i| + log|X'V^-1 X| + r'V^-1 r + (n - p) log(2 pi) (beta profiled, GLS);
#   attunement uses (theta, log delta, sigma) instead; the df do not depend on the
#   parametrisation, so agreement checks the Jacobian and Hessian of either side;
# * nlme's optimum is polished by two Newton steps on this deviance (nlme stops a little
#   early, most in flat directions), with the gradient and Hessian by Richardson-extrapolated
#   central differences;
# * Var(beta) = (X'V^-1 X)^-1 as a function of vp, its Jacobian by Richardson differences;
# * df_j = 2 Var(beta_j)^2 / (g_j' A g_j), A = 2 H^-1, H the Hessian of the deviance.
#
# Models:
#   varident:  y ~ x + w + (1 + x | g), two strata with residual SD 1 and 1.8, 40 groups of
#              4-14 rows, w a between-group predictor (data: satterthwaite_varident.csv);
#   mediation: the stacked 1-1-1 mediation model of ../reference_process/process.R
#              (data: ../reference_process/mediation_stacked_r.csv), residual variance by
#              equation. Its s_y and s_y_x_between get df below 1: the person mean of the
#              mediator predicts the outcome (s_y_m_between) while it is also the mean of the
#              mediator rows, so the covariance of the s_m and s_y random intercepts is nearly
#              confounded with the fixed effects of the outcome equation (a nearly flat REML
#              deviance in that direction), and Var(beta) of s_y and s_y_x_between depends on it.
# Output: satterthwaite_varident_r.csv (model, term, estimate, se, df, reml_deviance).

suppressMessages(library(nlme))

set.seed(20261122)
G <- 40
sizes <- sample(4:14, G, replace = TRUE)
g <- rep(sprintf("g%02d", seq_len(G)), sizes)
n <- length(g)
x <- round(rnorm(n), 4)
w <- round(rep(rnorm(G), sizes), 4)
stratum <- sample(c("a", "b"), n, replace = TRUE)
b0 <- rep(rnorm(G, 0, 0.9), sizes)
b1 <- rep(rnorm(G, 0, 0.5), sizes)
e <- rnorm(n) * ifelse(stratum == "a", 1.0, 1.8)
y <- round(2 + 0.4 * x - 0.6 * w + b0 + b1 * x + e, 4)
simulated <- data.frame(g = g, stratum = stratum, x = x, w = w, y = y)
write.csv(simulated, "satterthwaite_varident.csv", row.names = FALSE)

mediation <- read.csv("../reference_process/mediation_stacked_r.csv")

ctrl <- lmeControl(maxIter = 500, msMaxIter = 500, msMaxEval = 20000, niterEM = 100,
                   tolerance = 1e-10, msTol = 1e-12, .relStep = 1e-3)

richardson_grad <- function(f, vp, h0) {
  sapply(seq_along(vp), function(i) {
    d1 <- function(h) {
      e <- replace(numeric(length(vp)), i, h)
      (f(vp + e) - f(vp - e)) / (2 * h)
    }
    (4 * d1(h0[i] / 2) - d1(h0[i])) / 3
  })
}

richardson_hessian <- function(f, vp, h0) {
  k <- length(vp)
  f0 <- f(vp)
  second <- function(i, j, h) {
    ei <- replace(numeric(k), i, h[i])
    ej <- replace(numeric(k), j, h[j])
    if (i == j) (f(vp + ei) - 2 * f0 + f(vp - ei)) / h[i]^2
    else (f(vp + ei + ej) - f(vp + ei - ej) - f(vp - ei + ej) + f(vp - ei - ej)) / (4 * h[i] * h[j])
  }
  H <- matrix(0, k, k)
  for (i in 1:k) for (j in i:k) {
    H[i, j] <- (4 * second(i, j, h0 / 2) - second(i, j, h0)) / 3
    H[j, i] <- H[i, j]
  }
  H
}

satterthwaite_varident <- function(name, fixed, random, data, stratum_col, group_col) {
  fit <- lme(fixed, random = random, data = data, method = "REML",
             weights = varIdent(form = as.formula(paste("~ 1 |", stratum_col))), control = ctrl)
  X <- model.matrix(fixed, data)
  Z <- model.matrix(as.formula(paste("~", sub("\\|.*", "", as.character(random)[2]))), data)
  yv <- data[[all.vars(fixed)[1]]]
  levels_s <- sort(unique(data[[stratum_col]]))
  s_code <- match(data[[stratum_col]], levels_s)
  rows <- split(seq_len(nrow(data)), data[[group_col]])
  q <- ncol(Z); p <- ncol(X); n <- nrow(X)
  low <- which(lower.tri(diag(q), diag = TRUE), arr.ind = TRUE)
  unpack <- function(vp) {
    D <- matrix(0, q, q)
    D[low] <- vp[seq_len(nrow(low))]
    D[upper.tri(D)] <- t(D)[upper.tri(D)]
    list(D = D, s2 = vp[-seq_len(nrow(low))])
  }
  pieces <- function(vp) {
    u <- unpack(vp)
    xtvx <- matrix(0, p, p); xtvy <- numeric(p); logdet <- 0
    inv <- vector("list", length(rows))
    for (k in seq_along(rows)) {
      r <- rows[[k]]
      Zi <- Z[r, , drop = FALSE]
      Vi <- Zi %*% u$D %*% t(Zi) + diag(u$s2[s_code[r]], length(r))
      ch <- chol(Vi)
      logdet <- logdet + 2 * sum(log(diag(ch)))
      Vinv <- chol2inv(ch)
      inv[[k]] <- Vinv
      Xi <- X[r, , drop = FALSE]
      xtvx <- xtvx + t(Xi) %*% Vinv %*% Xi
      xtvy <- xtvy + t(Xi) %*% Vinv %*% yv[r]
    }
    list(xtvx = xtvx, xtvy = xtvy, logdet = logdet, inv = inv)
  }
  deviance <- function(vp) {
    pc <- pieces(vp)
    beta <- solve(pc$xtvx, pc$xtvy)
    quad <- 0
    for (k in seq_along(rows)) {
      r <- rows[[k]]
      res <- yv[r] - X[r, , drop = FALSE] %*% beta
      quad <- quad + drop(t(res) %*% pc$inv[[k]] %*% res)
    }
    pc$logdet + as.numeric(determinant(pc$xtvx)$modulus) + quad + (n - p) * log(2 * pi)
  }
  vcov_beta <- function(vp) diag(solve(pieces(vp)$xtvx))

  D_hat <- as.matrix(getVarCov(fit))
  ratio <- coef(fit$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)
  s2_hat <- (fit$sigma * ratio[levels_s])^2
  vp <- c(D_hat[low], s2_hat)
  nlme_dev <- deviance(vp)
  for (step in 1:2) {
    h0 <- 1e-3 * pmax(abs(vp), 1e-2)
    vp <- vp - solve(richardson_hessian(deviance, vp, h0), richardson_grad(deviance, vp, h0))
  }
  h0 <- 1e-3 * pmax(abs(vp), 1e-2)
  H <- richardson_hessian(deviance, vp, h0)
  A <- 2 * solve(H)
  jac <- t(sapply(seq_along(vp), function(i) {
    d1 <- function(h) {
      e <- replace(numeric(length(vp)), i, h)
      (vcov_beta(vp + e) - vcov_beta(vp - e)) / (2 * h)
    }
    (4 * d1(h0[i] / 2) - d1(h0[i])) / 3
  }))
  v <- vcov_beta(vp)
  df <- 2 * v^2 / colSums(jac * (A %*% jac))
  pc <- pieces(vp)
  beta <- drop(solve(pc$xtvx, pc$xtvy))
  cat(sprintf("%s: REML deviance nlme %.8f, polished %.8f; min eigenvalue of H %.4g\n",
              name, nlme_dev, deviance(vp), min(eigen(H, only.values = TRUE)$values)))
  data.frame(model = name, term = colnames(X), estimate = beta, se = sqrt(v), df = df,
             reml_deviance = deviance(vp), row.names = NULL)
}

out <- rbind(
  satterthwaite_varident("varident", y ~ x + w, ~ 1 + x | g, simulated, "stratum", "g"),
  satterthwaite_varident(
    "mediation",
    z ~ 0 + s_m + s_y + a_path + b_path + c_path + s_m_x_between + s_y_m_between + s_y_x_between,
    ~ 0 + s_m + s_y + a_path + b_path + c_path | person, mediation, "equation", "person")
)
print(out, digits = 10)
write.csv(out, "satterthwaite_varident_r.csv", row.names = FALSE)
