"""The sections of the evidence pack, one module each. Every section is a function of the
:class:`~locker.report.builder.Layout` (styles, fonts, labels, the snapshot) and the pass's
:class:`~locker.report.page.State`, and returns the flowables of its pages."""
