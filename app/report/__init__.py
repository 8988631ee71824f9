"""Reports: the request, buckets, metrics, the view reads, the merge and the renderers."""
