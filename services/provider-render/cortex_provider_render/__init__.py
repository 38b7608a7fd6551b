"""provider-render: runs jobs as one-off jobs on render.com."""
