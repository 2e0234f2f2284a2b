# Golden input series for the detector parity fixtures (seeded; see README.md).
# Sourced by make_fixtures.R; defines daily_series() and weekly_series().

nb <- function(n, mu, size) rnbinom(n, mu = mu, size = size)

inject <- function(x, n_outbreaks, scale) {
  n <- length(x)
  for (i in seq_len(n_outbreaks)) {
    start <- sample.int(n - 8, 1)
    len <- sample(2:7, 1)
    idx <- start:(start + len - 1)
    x[idx] <- x[idx] + rpois(len, scale)
  }
  x
}

daily_series <- function(n_days = 300, seed = 20240607) {
  set.seed(seed)
  t <- seq_len(n_days)
  out <- list(); kind <- character()
  add <- function(x, k) { out[[length(out) + 1]] <<- as.integer(x); kind[length(kind) + 1] <<- k }
  for (i in 1:10) {  # seasonal (weekly + yearly) negative binomial with outbreaks
    base <- runif(1, 3, 30)
    mu <- base * exp(0.3 * sin(2 * pi * t / 7) + 0.4 * sin(2 * pi * t / 365))
    add(inject(nb(n_days, mu, runif(1, 2, 10)), 4, 2 * base), "seasonal_nb")
  }
  for (i in 1:8) add(rpois(n_days, runif(1, 0.05, 0.6)), "sparse")
  for (i in 1:6) {
    mu <- exp(log(runif(1, 1, 5)) + sample(c(-1, 1), 1) * runif(1, 0.002, 0.008) * t)
    add(inject(nb(n_days, mu, 5), 2, 10), "trend")
  }
  for (i in 1:6) {  # all-zero stretches (zero reference windows)
    x <- nb(n_days, runif(1, 2, 6), 4)
    x[1:40] <- 0; x[150:170] <- 0
    add(x, "zero_stretch")
  }
  for (i in 1:4) {  # constant (sd 0) with a few spikes
    x <- rep(3L, n_days); s <- sample.int(n_days, 6); x[s] <- x[s] + sample(1:9, 6, TRUE)
    add(x, "constant")
  }
  for (i in 1:4) add(inject(rpois(n_days, runif(1, 300, 2000)), 3, 400), "large")
  for (i in 1:2) add(rep(0L, n_days), "all_zero")
  list(counts = do.call(rbind, out), kind = kind)
}

weekly_series <- function(n_weeks = 364, seed = 19960101) {
  set.seed(seed)
  t <- seq_len(n_weeks)
  out <- list(); kind <- character()
  add <- function(x, k) { out[[length(out) + 1]] <<- as.integer(x); kind[length(kind) + 1] <<- k }
  for (i in 1:14) {
    base <- runif(1, 2, 50)
    mu <- base * exp(runif(1, 0.2, 0.9) * sin(2 * pi * (t + runif(1, 0, 52)) / 52))
    add(inject(nb(n_weeks, mu, runif(1, 2, 20)), 4, 2 * base), "seasonal_nb")
  }
  for (i in 1:8) add(inject(rpois(n_weeks, runif(1, 0.1, 1)), 2, 4), "sparse")
  for (i in 1:8) {
    mu <- exp(log(runif(1, 3, 20)) + sample(c(-1, 1), 1) * runif(1, 0.001, 0.006) * t +
              0.5 * sin(2 * pi * t / 52))
    add(inject(nb(n_weeks, mu, 8), 3, 15), "trend")
  }
  for (i in 1:6) {
    x <- nb(n_weeks, runif(1, 1, 8), 3)
    x[seq(1, n_weeks, by = 52)] <- 0
    x[1:120] <- 0
    if (i <= 3) x[300:364] <- rpois(65, 3)  # history all zero except recent weeks
    add(x, "zero_stretch")
  }
  for (i in 1:6) add(inject(rpois(n_weeks, runif(1, 200, 1500) * exp(0.3 * sin(2 * pi * t / 52))), 3, 300), "large")
  for (i in 1:4) add(rpois(n_weeks, runif(1, 2, 10)), "poisson")
  for (i in 1:2) add(rep(0L, n_weeks), "all_zero")
  list(counts = do.call(rbind, out), kind = kind)
}
