"""Custom actions run by the Rasa action server (`make run-actions`), one module per feature."""
from privacy.log_masking import install as _mask_personal_details_in_logs

# The action server imports this package first: from here on no log line carries a
# patient's name, phone number or email.
_mask_personal_details_in_logs()
