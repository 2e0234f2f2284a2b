# Generate the golden series and R surveillance's outputs for the detector parity tests.
#
#   Rscript bench/r/make_fixtures.R [ears|cusum|farrington|all]
#
# Writes gzip CSV files and manifest.json into renzhi/warning/tests/fixtures/detectors/.
# Each configuration's file has one row per evaluated point: series (1-based), time (1-based),
# upperbound, alarm (NA where R gives NA). manifest.json maps each configuration to its input
# series and to the keyword arguments of the Python function (renzhi.warning.detectors).
suppressMessages({ library(surveillance); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
what <- if (length(args)) args[1] else "all"
here <- dirname(normalizePath(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE))))
root <- normalizePath(file.path(here, "..", ".."))
out_dir <- file.path(root, "renzhi", "warning", "tests", "fixtures", "detectors")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)
source(file.path(here, "golden_series.R"))

write_gz <- function(df, name) {
  con <- gzfile(file.path(out_dir, name), "w", compression = 9)
  write.csv(df, con, row.names = FALSE, na = "NA", quote = FALSE)
  close(con)
}
fmt <- function(x) ifelse(is.na(x), NA, formatC(x, digits = 12, format = "g"))

save_series <- function(s, name) {
  df <- data.frame(kind = s$kind, s$counts)
  names(df) <- c("kind", paste0("t", seq_len(ncol(s$counts))))
  write_gz(df, name)
}

result_frame <- function(ub, al, rows) {
  # ub, al: matrices (time x series) over the evaluated rows
  n_s <- ncol(ub)
  data.frame(series = rep(seq_len(n_s), each = length(rows)),
             time = rep(rows, n_s),
             upperbound = fmt(as.vector(ub)),
             alarm = as.integer(as.vector(al)))
}

manifest_path <- file.path(out_dir, "manifest.json")
new_configs <- list()
record <- function(name, method, input, kwargs, seconds, n_points) {
  new_configs[[name]] <<- list(method = method, input = input, kwargs = kwargs,
                                   file = paste0(name, ".csv.gz"), r_seconds = seconds,
                                   n_points = n_points)
}

daily <- daily_series()
weekly <- weekly_series()
save_series(daily, "daily_series.csv.gz")
save_series(weekly, "weekly_series.csv.gz")

# ---- EARS ------------------------------------------------------------------------------
if (what %in% c("ears", "all")) {
  sts_d <- sts(observed = t(daily$counts), frequency = 365)
  for (method in c("C1", "C2", "C3")) {
    variants <- list(
      default = list(baseline = 7, alpha = 0.001, minSigma = 0),
      minsigma = list(baseline = 7, alpha = 0.025, minSigma = 0.5),
      baseline28 = list(baseline = 28, alpha = 0.01, minSigma = 0)
    )
    for (v in names(variants)) {
      p <- variants[[v]]
      tm <- system.time(res <- earsC(sts_d, control = list(method = method, baseline = p$baseline,
                                                            alpha = p$alpha, minSigma = p$minSigma)))
      lag <- switch(method, C1 = 0, C2 = 2, C3 = 4)
      rows <- (p$baseline + lag + 1):nrow(sts_d)
      name <- paste0("ears_", method, "_", v)
      write_gz(result_frame(upperbound(res), alarms(res), rows), paste0(name, ".csv.gz"))
      record(name, "ears_c", "daily",
             list(method = method, baseline = p$baseline, alpha = p$alpha, min_sigma = p$minSigma),
             unname(tm["elapsed"]), length(rows) * ncol(sts_d))
      cat(name, "done\n")
    }
  }
}

# ---- CUSUM -----------------------------------------------------------------------------
if (what %in% c("cusum", "all")) {
  variants <- list(
    default = list(k = 1.04, h = 2.26, m = NULL, trans = "standard", phase1 = 28),
    m_given_rossi = list(k = 1.04, h = 2.26, m = 2.5, trans = "rossi", phase1 = 28),
    anscombe = list(k = 0.5, h = 4, m = NULL, trans = "anscombe", phase1 = 28),
    anscombe2nd = list(k = 1.04, h = 2.26, m = NULL, trans = "anscombe2nd", phase1 = 14),
    pearson_nb = list(k = 1, h = 3, m = NULL, trans = "pearsonNegBin", phase1 = 28),
    none_m_given = list(k = 5, h = 10, m = 4, trans = "none", phase1 = 28)
  )
  n_days <- ncol(daily$counts)
  for (v in names(variants)) {
    p <- variants[[v]]
    rows <- (p$phase1 + 1):n_days
    ub <- al <- matrix(NA_real_, length(rows), nrow(daily$counts))
    tm <- system.time(for (j in seq_len(nrow(daily$counts))) {
      x <- daily$counts[j, ]
      dp <- create.disProg(week = seq_along(x), observed = x, state = 0 * x, freq = 365)
      ctl <- list(range = rows, k = p$k, h = p$h, trans = p$trans)
      if (!is.null(p$m)) ctl$m <- p$m
      r <- algo.cusum(dp, control = ctl)
      ub[, j] <- r$upperbound; al[, j] <- r$alarm
    })
    name <- paste0("cusum_", v)
    write_gz(result_frame(ub, al, rows), paste0(name, ".csv.gz"))
    kw <- list(k = p$k, h = p$h, trans = p$trans, phase1 = p$phase1)
    if (!is.null(p$m)) kw$m <- p$m
    record(name, "cusum", "daily", kw, unname(tm["elapsed"]), length(rows) * nrow(daily$counts))
    cat(name, "done\n")
  }
}

# ---- Farrington ------------------------------------------------------------------------
if (what %in% c("farrington", "all")) {
  sts_w <- sts(observed = t(weekly$counts), frequency = 52, start = c(2000, 1))
  variants <- list(
    # the R/Python defaults
    default = list(b = 5, w = 3, reweight = TRUE, weightsThreshold = 2.58, alpha = 0.05,
                   trend = TRUE, pThresholdTrend = 0.05, powertrans = "2/3", limit54 = c(5, 4),
                   noPeriods = 1, pastWeeksNotIncluded = NULL, thresholdMethod = "delta"),
    # Farrington et al. (1996) as the surveillance documentation describes it
    original = list(b = 5, w = 3, reweight = TRUE, weightsThreshold = 1, alpha = 0.05,
                    trend = TRUE, pThresholdTrend = 0.05, powertrans = "2/3", limit54 = c(5, 4),
                    noPeriods = 1, pastWeeksNotIncluded = 3, thresholdMethod = "delta"),
    # Noufaily et al. (2013) improved method
    noufaily = list(b = 5, w = 3, reweight = TRUE, weightsThreshold = 2.58, alpha = 0.05,
                    trend = TRUE, pThresholdTrend = 1, powertrans = "none", limit54 = c(5, 4),
                    noPeriods = 10, pastWeeksNotIncluded = 26, thresholdMethod = "nbPlugin"),
    noufaily_muan = list(b = 5, w = 3, reweight = TRUE, weightsThreshold = 2.58, alpha = 0.01,
                         trend = TRUE, pThresholdTrend = 1, powertrans = "none", limit54 = c(5, 4),
                         noPeriods = 10, pastWeeksNotIncluded = 26, thresholdMethod = "muan"),
    short_sqrt = list(b = 3, w = 2, reweight = FALSE, weightsThreshold = 2.58, alpha = 0.01,
                      trend = FALSE, pThresholdTrend = 0.05, powertrans = "1/2", limit54 = c(3, 2),
                      noPeriods = 4, pastWeeksNotIncluded = 8, thresholdMethod = "delta")
  )
  only <- if (length(args) > 1) args[-1] else names(variants)
  for (v in only) {
    p <- variants[[v]]
    ctl <- c(p, list(glmWarnings = FALSE))
    rows <- (52 * p$b + p$w + 1):nrow(sts_w)
    tm <- system.time(res <- farringtonFlexible(sts_w, control = ctl))
    name <- paste0("farrington_", v)
    write_gz(result_frame(upperbound(res), alarms(res), rows), paste0(name, ".csv.gz"))
    kw <- list(freq = 52, b = p$b, w = p$w, reweight = p$reweight,
               weights_threshold = p$weightsThreshold, alpha = p$alpha, trend = p$trend,
               p_threshold_trend = p$pThresholdTrend, power_trans = p$powertrans,
               limit54 = p$limit54, past_weeks_not_included = p$pastWeeksNotIncluded,
               no_periods = p$noPeriods, threshold_method = p$thresholdMethod)
    record(name, "farrington_flexible", "weekly", kw, unname(tm["elapsed"]),
           length(rows) * ncol(sts_w))
    cat(name, "done in", tm["elapsed"], "s\n")
  }
}

# Merge into the manifest as it is NOW (several runs may work in parallel on different configs).
manifest <- if (file.exists(manifest_path)) fromJSON(manifest_path, simplifyVector = FALSE) else list()
manifest$surveillance_version <- as.character(packageVersion("surveillance"))
manifest$r_version <- R.version.string
for (nm in names(new_configs)) manifest$configs[[nm]] <- new_configs[[nm]]
manifest$configs <- manifest$configs[order(names(manifest$configs))]
writeLines(toJSON(manifest, auto_unbox = TRUE, pretty = TRUE, null = "null", digits = NA),
           manifest_path)
