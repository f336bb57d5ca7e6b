# Reference values for attunement.analysis.outcome_correlations and person_mean_centre.
# Run from this folder: Rscript outcomes.R   (R 4.2; base R only)
set.seed(20260521)
n <- 90
eis <- round(pmin(25, pmax(5, rnorm(n, 18, 4))))
d <- data.frame(
  person = sprintf("p%02d", 1:n),
  eis_total = eis,
  swls_total = round(pmin(35, pmax(5, 10 + 0.8 * eis + rnorm(n, 0, 5)))),
  pss10_total = round(pmin(40, pmax(0, 30 - 0.6 * eis + rnorm(n, 0, 6)))),
  mspss_total = round(pmin(7, pmax(1, 2 + 0.15 * eis + rnorm(n, 0, 1))), 2),
  pain_total = round(pmin(10, pmax(0, 5 - 0.05 * eis + rnorm(n, 0, 2))), 1),
  fatigue_total = round(pmin(10, pmax(0, 5 + rnorm(n, 0, 2))), 1)
)
# some missing values, different per column (pairwise n differs)
d$swls_total[c(3, 17, 45)] <- NA
d$pss10_total[c(8, 60)] <- NA
d$eis_total[c(71)] <- NA
write.csv(d, "outcomes.csv", row.names = FALSE, na = "")

ys <- c("swls_total", "pss10_total", "mspss_total", "pain_total", "fatigue_total")
rows <- list()
for (method in c("pearson", "spearman")) {
  for (y in ys) {
    ok <- complete.cases(d$eis_total, d[[y]])
    ct <- suppressWarnings(cor.test(d$eis_total[ok], d[[y]][ok], method = method, exact = FALSE))
    rows[[length(rows) + 1]] <- data.frame(
      x = "eis_total", y = y, method = method, n = sum(ok), r = unname(ct$estimate),
      ci_low = if (is.null(ct$conf.int)) NA else ct$conf.int[1],
      ci_high = if (is.null(ct$conf.int)) NA else ct$conf.int[2],
      p_val = ct$p.value)
  }
}
res <- do.call(rbind, rows)
res$p_fdr <- NA
for (m in c("pearson", "spearman")) {
  i <- res$method == m
  res$p_fdr[i] <- p.adjust(res$p_val[i], method = "BH")
}
write.csv(res, "outcomes_r.csv", row.names = FALSE, na = "")

# p.adjust on a fixed vector with ties and NA
p <- c(0.01, 0.04, 0.03, 0.04, 0.2, NA, 0.5, 0.001, 0.049)
write.csv(data.frame(p = p, bh = p.adjust(p, method = "BH")), "p_adjust_r.csv",
          row.names = FALSE, na = "")
