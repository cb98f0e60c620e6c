//! The connector's fields: names, JSON pointers and which are required, in one place.

/// A field of the connector object, in the seed's (canonical) order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    Type,
    Id,
    Credentials,
    Region,
    Stream,
    Shards,
    MaxRecordsPerShardPerSecond,
    MaxBytesPerShardPerSecond,
    DataProcessingMethodId,
    Disabled,
}

/// The alias the platform also accepts for [`Field::DataProcessingMethodId`].
pub const METHOD_ALIAS: &str = "dataProcessingMethod";

impl Field {
    /// Every field, in the seed's order (the canonical key order of a connector).
    pub const ALL: [Field; 10] = [
        Field::Type,
        Field::Id,
        Field::Credentials,
        Field::Region,
        Field::Stream,
        Field::Shards,
        Field::MaxRecordsPerShardPerSecond,
        Field::MaxBytesPerShardPerSecond,
        Field::DataProcessingMethodId,
        Field::Disabled,
    ];

    /// The key on the wire.
    pub const fn name(self) -> &'static str {
        match self {
            Field::Type => "type",
            Field::Id => "id",
            Field::Credentials => "credentials",
            Field::Region => "region",
            Field::Stream => "stream",
            Field::Shards => "shards",
            Field::MaxRecordsPerShardPerSecond => "maxRecordsPerShardPerSecond",
            Field::MaxBytesPerShardPerSecond => "maxBytesPerShardPerSecond",
            Field::DataProcessingMethodId => "dataProcessingMethodId",
            Field::Disabled => "disabled",
        }
    }

    /// The JSON pointer of the field in a connector (no formatting on the hot path).
    pub const fn pointer(self) -> &'static str {
        match self {
            Field::Type => "/type",
            Field::Id => "/id",
            Field::Credentials => "/credentials",
            Field::Region => "/region",
            Field::Stream => "/stream",
            Field::Shards => "/shards",
            Field::MaxRecordsPerShardPerSecond => "/maxRecordsPerShardPerSecond",
            Field::MaxBytesPerShardPerSecond => "/maxBytesPerShardPerSecond",
            Field::DataProcessingMethodId => "/dataProcessingMethodId",
            Field::Disabled => "/disabled",
        }
    }

    /// Required in a create payload (the seed lists these before the two optional ones).
    pub const fn required(self) -> bool {
        !matches!(self, Field::DataProcessingMethodId | Field::Disabled)
    }

    /// The field with this key; the alias `dataProcessingMethod` names the method field too.
    pub fn from_name(name: &str) -> Option<Field> {
        // A match on the text, not a search through `ALL`: the compiler switches on the length
        // and compares with each constant name inline (measured: choosing one candidate by
        // length, then one comparison through memcmp, was 5% slower in the wasm).
        Some(match name {
            "type" => Field::Type,
            "id" => Field::Id,
            "credentials" => Field::Credentials,
            "region" => Field::Region,
            "stream" => Field::Stream,
            "shards" => Field::Shards,
            "maxRecordsPerShardPerSecond" => Field::MaxRecordsPerShardPerSecond,
            "maxBytesPerShardPerSecond" => Field::MaxBytesPerShardPerSecond,
            "dataProcessingMethodId" | METHOD_ALIAS => Field::DataProcessingMethodId,
            "disabled" => Field::Disabled,
            _ => return None,
        })
    }

    /// The field a JSON pointer into a connector is about (`/credentials/user` → credentials).
    pub fn of_pointer(pointer: &str) -> Option<Field> {
        let top = pointer.strip_prefix('/')?.split('/').next()?;
        Field::from_name(top)
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A member of `credentials`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CredentialField {
    User,
    Password,
}

impl CredentialField {
    pub const ALL: [CredentialField; 2] = [CredentialField::User, CredentialField::Password];

    pub const fn name(self) -> &'static str {
        match self {
            CredentialField::User => "user",
            CredentialField::Password => "password",
        }
    }

    pub const fn pointer(self) -> &'static str {
        match self {
            CredentialField::User => "/credentials/user",
            CredentialField::Password => "/credentials/password",
        }
    }

    /// How messages name it.
    pub const fn label(self) -> &'static str {
        match self {
            CredentialField::User => "credentials.user",
            CredentialField::Password => "credentials.password",
        }
    }

    pub fn from_name(name: &str) -> Option<CredentialField> {
        match name {
            "user" => Some(CredentialField::User),
            "password" => Some(CredentialField::Password),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Field;

    #[test]
    fn names_and_pointers_agree() {
        for field in Field::ALL {
            assert_eq!(field.pointer(), format!("/{}", field.name()));
            assert_eq!(Field::from_name(field.name()), Some(field));
            // Not a name of the same length, nor one a character off.
            let other = field.name().replace(|c: char| c.is_ascii_lowercase(), "x");
            assert_eq!(Field::from_name(&other), None, "{other}");
            assert_eq!(Field::from_name(&field.name()[1..]), None);
            assert_eq!(Field::from_name(&format!("{}s", field.name())), None);
        }
        assert_eq!(
            Field::from_name(super::METHOD_ALIAS),
            Some(Field::DataProcessingMethodId)
        );
        for near in [
            "",
            "Region",
            "streams",
            "sharts",
            "regiom",
            "strean",
            "disabled ",
            "ID",
        ] {
            assert_eq!(Field::from_name(near), None, "{near}");
        }
        let required = Field::ALL.iter().filter(|f| f.required()).count();
        assert_eq!(required, 8);
        assert_eq!(
            Field::of_pointer("/credentials/user"),
            Some(Field::Credentials)
        );
        assert_eq!(Field::of_pointer(""), None);
    }
}
