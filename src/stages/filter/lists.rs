//! Allow and block lists from `[filter]`: exact addresses or `@domain` entries.

/// The entry of `list` that matches `address`, if any. `@example.com` (or a bare
/// `example.com`) matches that domain and its subdomains; anything with a local part must
/// match the whole address. Comparison ignores case.
pub fn matching<'a>(list: &'a [String], address: &str) -> Option<&'a str> {
    let address = address.trim().to_ascii_lowercase();
    let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    list.iter().map(String::as_str).find(|entry| {
        let e = entry.trim().to_ascii_lowercase();
        if e.is_empty() {
            return false;
        }
        match e.split_once('@') {
            Some(("", d)) => domain_matches(domain, d),
            Some(_) => e == address,
            None => domain_matches(domain, &e),
        }
    })
}

/// `domain` is `parent` or a subdomain of it.
pub fn domain_matches(domain: &str, parent: &str) -> bool {
    let parent = parent.trim_start_matches('.');
    !domain.is_empty()
        && !parent.is_empty()
        && (domain == parent || domain.strip_suffix(parent).is_some_and(|rest| rest.ends_with('.')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn addresses_match_exactly_and_domains_with_subdomains() {
        let l = list(&["VIP@Customer.example", "@partner.example", "supplier.example"]);
        assert_eq!(matching(&l, "vip@customer.example"), Some("VIP@Customer.example"));
        assert_eq!(matching(&l, "other@customer.example"), None);
        assert_eq!(matching(&l, "a@partner.example"), Some("@partner.example"));
        assert_eq!(matching(&l, "a@eu.partner.example"), Some("@partner.example"));
        assert_eq!(matching(&l, "a@notpartner.example"), None);
        assert_eq!(matching(&l, "x@supplier.example"), Some("supplier.example"));
        assert_eq!(matching(&l, ""), None);
    }
}
