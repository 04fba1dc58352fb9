//! Number formatting shared by the human-readable exports.

/// `v` with about `sig` significant digits, never in exponent notation: large values
/// keep all their integer digits (`123456`), small ones get decimals (`0.0123`).
pub fn sig(v: f64, sig: usize) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let magnitude = v.abs().log10().floor() as i64;
    let decimals = (sig as i64 - 1 - magnitude).clamp(0, 12) as usize;
    format!("{v:.decimals$}")
}

/// A fraction of L0 as a percentage with three significant digits: `45.6 %`.
pub fn percent(fraction: f64) -> String {
    format!("{} %", sig(fraction * 100.0, 3))
}

/// A relative change (0.05 = 5 %) as `+5.0 %`, signed when `signed`; beyond ±1000 %
/// (an interval or detectable effect of heavy-tailed noise can reach e^10) it is shown
/// as `> +1000 %`, since more digits would only say "far".
pub fn change(v: f64, signed: bool) -> String {
    let p = v * 100.0;
    match (p > 1000.0, signed) {
        (true, true) => "> +1000 %".into(),
        (true, false) => "> 1000 %".into(),
        (false, true) => format!("{p:+.1} %"),
        (false, false) => format!("{p:.1} %"),
    }
}

/// A number's text with its integer digits grouped by three (`28505.2` → `28 505.2`),
/// for figures of five digits and more; shorter ones are left alone.
pub fn thousands(text: &str) -> String {
    let (sign, rest) = match text.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", text),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((i, f)) => (i, format!(".{f}")),
        None => (rest, String::new()),
    };
    if int.len() < 5 || !int.bytes().all(|b| b.is_ascii_digit()) {
        return text.to_string();
    }
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    format!("{sign}{out}{frac}")
}

/// A hypervisor's name from the CPUID signature a level saw (`KVMKVMKVM` → `KVM`);
/// a signature this does not know is kept as it is.
pub fn hypervisor_name(signature: &str) -> String {
    match signature.trim_matches(char::from(0)).trim() {
        "KVMKVMKVM" => "KVM",
        "TCGTCGTCGTCG" => "TCG",
        "Microsoft Hv" => "Hyper-V",
        "VMwareVMware" => "VMware",
        "XenVMMXenVMM" => "Xen",
        "VBoxVBoxVBox" => "VirtualBox",
        "bhyve bhyve" => "bhyve",
        other => other,
    }
    .to_string()
}

/// Optional seconds: `12.3` or `–`.
pub fn seconds(v: Option<f64>) -> String {
    v.map(|s| sig(s, 3)).unwrap_or_else(|| "–".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_digits() {
        assert_eq!(sig(123456.7, 4), "123457");
        assert_eq!(sig(12.345, 4), "12.35");
        assert_eq!(sig(0.012345, 3), "0.0123");
        assert_eq!(sig(0.0, 3), "0");
        assert_eq!(percent(0.4561), "45.6 %");
        assert_eq!(percent(0.00025), "0.0250 %");
        assert_eq!(thousands("28505"), "28 505");
        assert_eq!(thousands("-1234567.5"), "-1 234 567.5");
        assert_eq!(thousands("2480"), "2480");
        assert_eq!(hypervisor_name("KVMKVMKVM"), "KVM");
        assert_eq!(hypervisor_name("KVM"), "KVM");
    }

    #[test]
    fn changes_are_capped_where_digits_stop_meaning_anything() {
        assert_eq!(change(-0.123, true), "-12.3 %");
        assert_eq!(change(0.05, false), "5.0 %");
        assert_eq!(change(9.99, true), "+999.0 %");
        assert_eq!(change(4.5e9, true), "> +1000 %");
        assert_eq!(change(f64::INFINITY, false), "> 1000 %");
    }
}
