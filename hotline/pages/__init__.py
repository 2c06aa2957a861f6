"""The web pages: a wallboard for supervisors and a console for agents, served as plain files
(HTML, CSS and JavaScript modules in `web/`), with no build step and no data inside them."""
