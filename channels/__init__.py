"""Input and output channels: the public web channels and the messaging platforms."""
from privacy.log_masking import install as _mask_personal_details_in_logs

# Rasa imports the channels named in credentials.yml before it serves any message, so
# this masks personal details in every later log line of the Rasa server.
_mask_personal_details_in_logs()
