"""Load benchmark: our assistant against stock Rasa, on one machine (`make bench`)."""
