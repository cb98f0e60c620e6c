//! The operations of the npm package, as the wasm module exports them (one `#[wasm_bindgen]`
//! function each, named by [`Op::name`]): one definition of their codes and names. The wasm
//! binding dispatches on it, the Rust tests run the fixture corpus through it, and pkg/build.mjs
//! generates the package's export list from it (it asks the built module's `operations()`).

/// The code no operation has (the raw ABI's "list the operations"; kept for the Rust API).
pub const LIST_OPS: u32 = 0;

/// An operation of the package; the discriminant is its code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    ValidateCreate = 1,
    ValidateUpdate = 2,
    ValidateCreateJson = 3,
    ValidateUpdateJson = 4,
    NormalizeCreate = 5,
    NormalizeUpdate = 6,
    Diff = 7,
    ApplyUpdate = 8,
    Regions = 9,
    CreateSchema = 10,
    UpdateSchema = 11,
}

impl Op {
    pub const ALL: [Op; 11] = [
        Op::ValidateCreate,
        Op::ValidateUpdate,
        Op::ValidateCreateJson,
        Op::ValidateUpdateJson,
        Op::NormalizeCreate,
        Op::NormalizeUpdate,
        Op::Diff,
        Op::ApplyUpdate,
        Op::Regions,
        Op::CreateSchema,
        Op::UpdateSchema,
    ];

    /// The operation's code.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The name of the package's function (and of the fixture corpus's `op`).
    pub const fn name(self) -> &'static str {
        match self {
            Op::ValidateCreate => "validateCreate",
            Op::ValidateUpdate => "validateUpdate",
            Op::ValidateCreateJson => "validateCreateJson",
            Op::ValidateUpdateJson => "validateUpdateJson",
            Op::NormalizeCreate => "normalizeCreate",
            Op::NormalizeUpdate => "normalizeUpdate",
            Op::Diff => "diff",
            Op::ApplyUpdate => "applyUpdate",
            Op::Regions => "regions",
            Op::CreateSchema => "createSchema",
            Op::UpdateSchema => "updateSchema",
        }
    }

    pub fn from_code(code: u32) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.code() == code)
    }

    pub fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::{Op, LIST_OPS};

    #[test]
    fn codes_and_names_are_distinct_and_round_trip() {
        for (i, op) in Op::ALL.into_iter().enumerate() {
            assert_eq!(op.code(), i as u32 + 1, "codes are 1.. in order");
            assert_ne!(op.code(), LIST_OPS);
            assert_eq!(Op::from_code(op.code()), Some(op));
            assert_eq!(Op::from_name(op.name()), Some(op));
        }
        assert_eq!(Op::from_code(LIST_OPS), None);
    }
}
