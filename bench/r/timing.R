# Time R surveillance on the benchmark workload and simulate point-source outbreaks.
#
#   .venv/bin/python bench/detectors.py --export /tmp/dwork
#   Rscript bench/r/timing.R /tmp/dwork [ears_series] [farrington_series] [nosim]
#
# "nosim" skips the (slow, ~5 minutes) point-source simulation and only re-times R.
# R is timed on the first `ears_series` (default 1000) daily and `farrington_series` (default 40)
# weekly series of the exported workload; bench/detectors.py scales these times linearly to the
# full 10,000 series (earsC and farringtonFlexible loop over series). R's alarms on that subset
# go to the work directory for the alarm comparison (bench/detectors.py --r-dir).
# Writes bench/r/results/r_timings.json and, for the detection-quality comparison,
# bench/r/results/sim_pointsource.csv.gz, sim_r_alarms.csv.gz and sim_settings.json.
suppressMessages({ library(surveillance); library(jsonlite); library(data.table) })
args <- commandArgs(trailingOnly = TRUE)
work <- args[1]
n_ears <- if (length(args) > 1) as.integer(args[2]) else 1000L
n_far <- if (length(args) > 2) as.integer(args[3]) else 40L
here <- dirname(normalizePath(sub("--file=", "", grep("--file=", commandArgs(FALSE), value = TRUE))))
results <- file.path(here, "results")
dir.create(results, showWarnings = FALSE)

write_matrix <- function(m, path) {  # one series per row, no header
  con <- gzfile(path, "w"); write.table(m, con, sep = ",", row.names = FALSE, col.names = FALSE,
                                        na = "NA", quote = FALSE); close(con)
}
cpu <- tryCatch(sub(".*: ", "", grep("model name", readLines("/proc/cpuinfo"), value = TRUE)[1]),
                error = function(e) NA)
timings <- list(r_version = R.version.string,
                surveillance_version = as.character(packageVersion("surveillance")),
                machine = list(cpu = cpu, cores = parallel::detectCores(),
                               load_average = tryCatch(as.numeric(strsplit(readLines("/proc/loadavg"), " ")[[1]][1:3]), error = function(e) NA)),
                note = "R timed on the first `series` series; bench/detectors.py scales linearly")

# ---- EARS on the daily workload -------------------------------------------------------------
daily <- as.matrix(fread(file.path(work, "daily.csv.gz"), header = FALSE))
sts_d <- sts(observed = t(daily[seq_len(n_ears), ]), frequency = 365)
ears_total <- 0
for (method in c("C1", "C2", "C3")) {
  tm <- system.time(res <- earsC(sts_d, control = list(method = method, baseline = 7,
                                                        alpha = 0.001, minSigma = 0)))
  ears_total <- ears_total + unname(tm["elapsed"])
  timings[[paste0("ears_", method)]] <- list(series = n_ears, seconds = unname(tm["elapsed"]))
  write_matrix(t(1 * alarms(res)), file.path(work, paste0("r_ears_", method, ".csv.gz")))
  cat("EARS", method, tm["elapsed"], "s\n")
}
timings$ears <- list(series = n_ears, seconds = ears_total)

# ---- Farrington, Noufaily settings, on the weekly workload ----------------------------------
noufaily <- list(b = 5, w = 3, reweight = TRUE, weightsThreshold = 2.58, alpha = 0.05,
                 trend = TRUE, pThresholdTrend = 1, powertrans = "none", limit54 = c(5, 4),
                 noPeriods = 10, pastWeeksNotIncluded = 26, thresholdMethod = "nbPlugin",
                 glmWarnings = FALSE)
weekly <- as.matrix(fread(file.path(work, "weekly.csv.gz"), header = FALSE))
sts_w <- sts(observed = t(weekly[seq_len(n_far), ]), frequency = 52, start = c(2000, 1))
tm <- system.time(res <- farringtonFlexible(sts_w, control = noufaily))
timings$farrington_noufaily <- list(series = n_far, seconds = unname(tm["elapsed"]),
                                    weeks_per_series = nrow(res))
write_matrix(t(1 * alarms(res)), file.path(work, "r_farrington_noufaily.csv.gz"))
cat("Farrington (Noufaily)", tm["elapsed"], "s for", n_far, "series\n")
writeLines(toJSON(timings, auto_unbox = TRUE, pretty = TRUE, digits = NA),
           file.path(results, "r_timings.json"))

# ---- detection quality: sim.pointSource -----------------------------------------------------
if (length(args) > 3 && args[4] == "nosim") quit(save = "no")
n_sim <- 100L; len <- 416L
set.seed(20130101)
sims <- lapply(seq_len(n_sim), function(i)
  sim.pointSource(p = 0.99, r = 0.5, length = len, A = 1, alpha = 1, beta = 0, phi = 0,
                  frequency = 1, state = NULL, K = 1.7))
obs <- t(sapply(sims, function(s) s$observed))
st <- t(sapply(sims, function(s) s$state))
df <- rbind(data.frame(series = seq_len(n_sim), kind = "observed", obs),
            data.frame(series = seq_len(n_sim), kind = "state", st))
con <- gzfile(file.path(results, "sim_pointsource.csv.gz"), "w", compression = 9)
write.csv(df, con, row.names = FALSE, quote = FALSE); close(con)

sts_s <- sts(observed = t(obs), frequency = 52, start = c(2000, 1))
full <- function(res_alarm, rows) {  # (time x series) on `rows` -> series x len, 0 elsewhere
  m <- matrix(0L, n_sim, len); a <- t(res_alarm); a[is.na(a)] <- 0L; m[, rows] <- a; m
}
out <- list()
for (method in c("C1", "C2", "C3")) {
  r <- earsC(sts_s, control = list(method = method, alpha = 0.001))
  lag <- switch(method, C1 = 0, C2 = 2, C3 = 4)
  out[[paste0("ears_", method)]] <- full(alarms(r), (7 + lag + 1):len)
}
cs <- matrix(0L, n_sim, len)
for (j in seq_len(n_sim)) {
  dp <- create.disProg(week = seq_len(len), observed = obs[j, ], state = st[j, ], freq = 52)
  r <- algo.cusum(dp, control = list(range = 29:len, k = 1.04, h = 2.26, trans = "standard"))
  a <- r$alarm; a[is.na(a)] <- 0; cs[j, 29:len] <- a
}
out$cusum <- cs
original <- list(b = 5, w = 3, reweight = TRUE, weightsThreshold = 1, alpha = 0.05, trend = TRUE,
                 pThresholdTrend = 0.05, powertrans = "2/3", limit54 = c(5, 4), noPeriods = 1,
                 pastWeeksNotIncluded = 3, thresholdMethod = "delta", glmWarnings = FALSE)
first <- 52 * 5 + 3 + 1
out$farrington_original <- full(alarms(farringtonFlexible(sts_s, control = original)), first:len)
out$farrington_noufaily <- full(alarms(farringtonFlexible(sts_s, control = noufaily)), first:len)
al <- do.call(rbind, lapply(names(out), function(m)
  data.frame(method = m, series = seq_len(n_sim), out[[m]])))
con <- gzfile(file.path(results, "sim_r_alarms.csv.gz"), "w", compression = 9)
write.csv(al, con, row.names = FALSE, quote = FALSE); close(con)
writeLines(toJSON(list(
  description = sprintf("%d series x %d weeks, p=0.99, r=0.5, A=1, alpha=1, K=1.7, seed 20130101", n_sim, len),
  generator = "surveillance::sim.pointSource", first_evaluated = first,
  evaluated = "weeks first_evaluated..length (1-based) for every method"),
  auto_unbox = TRUE, pretty = TRUE), file.path(results, "sim_settings.json"))
cat("simulation done\n")
