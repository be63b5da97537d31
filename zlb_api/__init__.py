"""The 浙里办 channel's edge: the province's single sign-on (IRS) client and its stand-in, and /zlb/v1, the citizen
API the 浙里办 H5 calls through the province's gateway (no path parameters, no cookies), on the same services as
/mp/v1."""
