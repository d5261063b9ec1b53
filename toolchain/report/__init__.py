"""The fit report: does a model fit a target, region by region (fit.py computes it from the
lowering, place.py and measure.py; fit_report.py holds its data and JSON; text.py and plot.py
render it)."""
