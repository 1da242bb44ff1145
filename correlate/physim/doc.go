// Package physim writes recordings of simulated NCCL workloads whose link
// traffic comes from physics of its own, as ground truth for the
// attribution model in package correlate.
//
// It must not share the model's formulas: it never imports correlate. It
// computes ring-algorithm bytes itself, picks NCCL's wire protocol with
// size thresholds and factors drawn per seed (so no hard-coded table can
// match them by construction), runs each GPU stream in order through a
// fluid model in which concurrent transfers share the link, makes the
// first call of a communicator connect lazily, and hides the contents of
// CUDA graphs captured before the recording began.
//
// Write runs a Scenario into a recording folder and returns its Truth;
// ScoreOps and MatchBursts compare an analysis against that Truth using
// plain structs, so this package stays independent of report.
package physim
