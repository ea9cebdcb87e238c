"""Public, read-only APIs: open to anyone, with no sign-in and no session of their own.

``oruk`` publishes the council's services for schools as an Open Referral UK 3.0 feed
(https://openreferraluk.org), so that service directories can list them.
"""
