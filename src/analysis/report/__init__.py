"""Reports: the monthly papermill run, its manifest, and self-contained HTML for the committee.

The last stage of the pipeline: it may import every other subpackage; none imports it.
"""
