"""The notebooks' interactive panels (ipywidgets): the payment explorer and the statement-matching workbench."""
