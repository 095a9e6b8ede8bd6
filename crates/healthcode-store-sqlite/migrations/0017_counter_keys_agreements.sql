-- A proxy link agreed to with a key an official gave at a service counter names that
-- official: the official has seen the key, so what the proxy declares for the person waits
-- for another official's confirmation (as the key's own declarations do).
ALTER TABLE proxies ADD COLUMN agreed_with_counter_key_of TEXT;
