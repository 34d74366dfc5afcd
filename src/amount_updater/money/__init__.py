"""Money in integer minor units, and Stripe's per-currency rules."""
