//! The code registry: one row per diagnostic code (id, kebab-case name,
//! default severity, long explanation). Codes are never reused; a test checks
//! that each is unique, explained, and exercised by a ui test.

use super::Severity;

macro_rules! codes {
    ($( $variant:ident, $name:literal, $sev:ident; )*) => {
        /// A stable diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $( #[doc = $name] $variant, )* }

        impl Code {
            /// Every registered code, in order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The code as written (`E2001`).
            pub fn id(self) -> &'static str {
                match self { $( Code::$variant => stringify!($variant), )* }
            }

            /// The kebab-case name (`unknown-field`).
            pub fn name(self) -> &'static str {
                match self { $( Code::$variant => $name, )* }
            }

            /// The severity unless configured otherwise.
            pub fn default_severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$sev, )* }
            }

            /// Whether `policy { CODE = "warn" }` may change its severity:
            /// the policy rules (`P…`) and the registry contract warnings
            /// (`R1…`). Derived from the code, so a new rule is
            /// configurable the moment it is in this table.
            pub fn configurable(self) -> bool {
                let id = self.id();
                id.starts_with('P') || id.starts_with("R1")
            }

            /// The long explanation (markdown) shown by `shipc explain`.
            pub fn explanation(self) -> &'static str {
                match self { $( Code::$variant => include_str!(concat!("explain/", stringify!($variant), ".md")), )* }
            }
        }
    };
}

codes! {
    E0001, "syntax-error", Error;
    E0002, "unterminated-string", Error;
    E0003, "nul-byte", Error;
    E0004, "invalid-escape", Error;
    E0005, "invalid-number", Error;
    E0006, "nesting-too-deep", Error;
    E0007, "invalid-utf8", Error;
    E1001, "unknown-name", Error;
    E1002, "duplicate-declaration", Error;
    E1003, "duplicate-field", Error;
    E1004, "import-not-found", Error;
    E1005, "import-cycle", Error;
    E1006, "import-escapes-root", Error;
    E1007, "unknown-std-module", Error;
    E1008, "duplicate-singleton", Error;
    E1009, "template-recursion", Error;
    E1010, "unknown-template", Error;
    E1011, "fn-outside-stdlib", Error;
    E1012, "unknown-function", Error;
    E1013, "let-cycle", Error;
    E1014, "env-not-in-scope", Error;
    E1015, "self-outside-declaration", Error;
    E1016, "template-not-allowed", Error;
    E1017, "recursive-type", Error;
    E2001, "unknown-field", Error;
    E2002, "type-mismatch", Error;
    E2003, "missing-field", Error;
    E2004, "unit-mismatch", Error;
    E2005, "port-out-of-range", Error;
    E2006, "invalid-k8s-name", Error;
    E2007, "invalid-port-name", Error;
    E2008, "invalid-digest", Error;
    E2009, "request-exceeds-limit", Error;
    E2010, "value-out-of-range", Error;
    E2011, "fractional-seconds", Error;
    E2012, "release-name-too-long", Error;
    E2013, "wrong-reference-kind", Error;
    E2014, "bad-template-arguments", Error;
    E2015, "bad-function-arguments", Error;
    E2016, "invalid-operands", Error;
    E2017, "condition-not-bool", Error;
    E2018, "unknown-member", Error;
    E2019, "unset-optional-interpolated", Error;
    E2020, "rwo-volume-with-replicas", Error;
    E2021, "invalid-path", Error;
    E2022, "invalid-url", Error;
    E2023, "invalid-image-ref", Error;
    E2024, "unknown-port-label", Error;
    E2025, "invalid-schedule", Error;
    E2026, "invalid-policy", Error;
    E2027, "duplicate-image-key", Error;
    E2028, "cannot-interpolate", Error;
    E2029, "integer-overflow", Error;
    E2030, "value-too-large", Error;
    E2031, "env-var-forward-reference", Error;
    E2032, "invalid-env-var-name", Error;
    E2033, "invalid-autoscale", Error;
    E2034, "invalid-disruption-budget", Error;
    E2035, "invalid-toleration", Error;
    E2036, "invalid-label", Error;
    E2037, "invalid-lifecycle-hook", Error;
    E2038, "node-port-on-cluster-ip", Error;
    E2039, "invalid-container", Error;
    E2040, "invalid-config", Error;
    E2041, "config-file", Error;
    E2042, "invalid-access-rule", Error;
    E2043, "invalid-network-peer", Error;
    E2044, "invalid-object", Error;
    E2045, "invalid-patch", Error;
    E2046, "invalid-secrets", Error;
    E2047, "invalid-build", Error;
    E3001, "dependency-cycle", Error;
    E3002, "excluded-dependency", Error;
    E4001, "object-name-collision", Error;
    E4002, "restart-without-entrypoint", Error;
    E4003, "ignore-outside-context", Error;
    E4004, "lock-repository-mismatch", Error;
    P001, "floating-tag", Error;
    P002, "unpinned-image", Error;
    P003, "registry-in-repository", Error;
    P004, "missing-digest", Error;
    P005, "ownership-collision", Error;
    P006, "plaintext-secret", Error;
    P007, "inexact-chart-version", Error;
    R001, "registry-unauthorized", Error;
    R002, "manifest-not-found", Error;
    R003, "registry-unreachable", Error;
    R004, "registry-dns", Error;
    R005, "registry-tls", Error;
    R006, "registry-timeout", Error;
    R007, "registry-error", Error;
    R008, "nothing-to-resolve", Error;
    R009, "registry-credentials", Error;
    G001, "git-missing", Error;
    G002, "git-unauthorized", Error;
    G003, "git-unreachable", Error;
    G004, "git-push-rejected", Error;
    G005, "git-error", Error;
    G006, "release-path-not-owned", Error;
    G007, "release-path-invalid", Error;
    G008, "release-not-found", Error;
    K001, "cluster-unreachable", Error;
    K002, "cluster-unauthorized", Error;
    K003, "cluster-forbidden", Error;
    K004, "kind-not-served", Error;
    K005, "field-conflict", Error;
    K006, "object-invalid", Error;
    K007, "cluster-timeout", Error;
    K008, "context-mismatch", Error;
    K009, "rollout-failed", Error;
    K010, "infra-missing", Error;
    K011, "no-revision", Error;
    K012, "cluster-error", Error;
    K013, "kubeconfig", Error;
    R101, "port-not-exposed", Warning;
    R102, "image-runs-as-root", Warning;
    R103, "no-amd64-image", Warning;
}

impl Code {
    /// Look a code up by its id, case-insensitively (`e2001` works).
    pub fn parse(id: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.id().eq_ignore_ascii_case(id) || c.name() == id)
    }
}
