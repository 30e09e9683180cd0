"""Views, one module per screen: thin functions that parse input, call a selector or a
service, and render a page or its htmx partial."""
