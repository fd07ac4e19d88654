"""The `tilecraft` command line: export / run / compare / report, run configurations, baselines, reports."""
