//! Field modes used by [`am_struct!`]: how one struct field is mapped.
//!
//! - `val`: the field type's own [`AmValue`] mapping;
//! - `text`: a `String` kept as an Automerge text object;
//! - `flat` / `flatset`: two-level maps flattened to `"outer/inner"` keys.

use std::collections::{BTreeMap, BTreeSet};

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, TextEncoding, hydrate as hv};

use super::DocError;
use super::value::{AmValue, At, MapKey, as_map, child_map, map_value, write};

/// Field mode `val`: the field's own [`AmValue`] mapping.
pub mod val {
    use super::*;

    pub fn to_am<T: AmValue>(v: &T) -> Option<hv::Value> {
        v.to_am()
    }
    pub fn from_am<T: AmValue>(v: Option<&hv::Value>, at: At<'_>) -> Result<T, DocError> {
        T::from_am(v, at)
    }
    pub fn update<T: AmValue>(
        new: &T,
        old: &T,
        doc: &mut AutoCommit,
        obj: &ObjId,
        key: &str,
    ) -> Result<(), DocError> {
        new.update_am(old, doc, obj, key)
    }
}

/// Field mode `text`: a `String` stored as an Automerge text object, so
/// concurrent edits merge character by character. A new whole value is
/// applied as a minimal diff (Myers over grapheme clusters).
pub mod text {
    use super::*;

    pub fn to_am(v: &str) -> Option<hv::Value> {
        Some(hv::Value::text(TextEncoding::platform_default(), v))
    }
    /// Absent is empty; a plain string is accepted too.
    pub fn from_am(v: Option<&hv::Value>, at: At<'_>) -> Result<String, DocError> {
        String::from_am(v, at)
    }
    pub fn update(
        new: &str,
        old: &str,
        doc: &mut AutoCommit,
        obj: &ObjId,
        key: &str,
    ) -> Result<(), DocError> {
        if new == old {
            return Ok(());
        }
        match doc.get(obj, key)? {
            Some((automerge::Value::Object(ObjType::Text), id)) => doc.update_text(&id, new)?,
            _ => write(doc, obj, key, to_am(new))?,
        }
        Ok(())
    }
}

/// Field mode `flat`: a two-level map `outer → inner → value` stored as one
/// map keyed `"outer/inner"` (see the module docs). Empty inner maps are
/// not stored.
pub mod flat {
    use super::*;

    const SEP: char = '/';

    fn flat_key<A: MapKey, B: MapKey>(a: &A, b: &B) -> String {
        format!("{}{SEP}{}", a.to_key(), b.to_key())
    }

    fn flatten<A: MapKey, B: MapKey, V: AmValue>(
        v: &BTreeMap<A, BTreeMap<B, V>>,
    ) -> BTreeMap<String, &V> {
        v.iter()
            .flat_map(|(a, m)| m.iter().map(move |(b, x)| (flat_key(a, b), x)))
            .collect()
    }

    pub fn to_am<A: MapKey, B: MapKey, V: AmValue>(
        v: &BTreeMap<A, BTreeMap<B, V>>,
    ) -> Option<hv::Value> {
        Some(map_value(
            flatten(v).into_iter().map(|(k, x)| (k, x.to_am())),
        ))
    }

    pub fn from_am<A: MapKey, B: MapKey, V: AmValue>(
        v: Option<&hv::Value>,
        at: At<'_>,
    ) -> Result<BTreeMap<A, BTreeMap<B, V>>, DocError> {
        let Some(v) = v else {
            return Ok(BTreeMap::new());
        };
        let m = as_map(Some(v), at)?;
        let mut out: BTreeMap<A, BTreeMap<B, V>> = BTreeMap::new();
        for (k, mv) in m.iter() {
            let at = at.child(k);
            let (a, b) = k
                .split_once(SEP)
                .ok_or_else(|| at.error("an \"outer/inner\" key"))?;
            let (a, b) = match (A::from_key(a), B::from_key(b)) {
                (Some(a), Some(b)) => (a, b),
                (None, _) if A::SKIP_UNKNOWN => continue,
                (_, None) if B::SKIP_UNKNOWN => continue,
                _ => return Err(at.error("a valid key")),
            };
            let x = V::from_am(Some(&mv.value), at)?;
            out.entry(a).or_default().insert(b, x);
        }
        Ok(out)
    }

    pub fn update<A: MapKey, B: MapKey, V: AmValue>(
        new: &BTreeMap<A, BTreeMap<B, V>>,
        old: &BTreeMap<A, BTreeMap<B, V>>,
        doc: &mut AutoCommit,
        obj: &ObjId,
        key: &str,
    ) -> Result<(), DocError> {
        if new == old {
            return Ok(());
        }
        let Some(map) = child_map(doc, obj, key)? else {
            return write(doc, obj, key, to_am(new));
        };
        let (new, old) = (flatten(new), flatten(old));
        for k in old.keys() {
            if !new.contains_key(k) {
                doc.delete(&map, k.as_str())?;
            }
        }
        for (k, x) in &new {
            match old.get(k) {
                Some(o) => x.update_am(o, doc, &map, k)?,
                None => write(doc, &map, k, x.to_am())?,
            }
        }
        Ok(())
    }
}

/// Field mode `flatset`: `outer → set of inner` stored as `{"outer/inner": true}`.
pub mod flatset {
    use super::*;

    fn as_map_of_unit<A: MapKey, B: MapKey>(
        v: &BTreeMap<A, BTreeSet<B>>,
    ) -> BTreeMap<A, BTreeMap<B, bool>> {
        v.iter()
            .map(|(a, s)| (a.clone(), s.iter().map(|b| (b.clone(), true)).collect()))
            .collect()
    }

    pub fn to_am<A: MapKey, B: MapKey>(v: &BTreeMap<A, BTreeSet<B>>) -> Option<hv::Value> {
        flat::to_am(&as_map_of_unit(v))
    }

    pub fn from_am<A: MapKey, B: MapKey>(
        v: Option<&hv::Value>,
        at: At<'_>,
    ) -> Result<BTreeMap<A, BTreeSet<B>>, DocError> {
        let m: BTreeMap<A, BTreeMap<B, bool>> = flat::from_am(v, at)?;
        Ok(m.into_iter()
            .map(|(a, s)| (a, s.into_keys().collect()))
            .collect())
    }

    pub fn update<A: MapKey, B: MapKey>(
        new: &BTreeMap<A, BTreeSet<B>>,
        old: &BTreeMap<A, BTreeSet<B>>,
        doc: &mut AutoCommit,
        obj: &ObjId,
        key: &str,
    ) -> Result<(), DocError> {
        if new == old {
            return Ok(());
        }
        flat::update(&as_map_of_unit(new), &as_map_of_unit(old), doc, obj, key)
    }
}

/// Implements [`AmValue`] and [`AmStruct`] for a struct, field by field.
///
/// `am_struct!(T { a: val, b: text })` stores every listed field under its
/// name. `am_struct!(T [id: IdType] { … })` is for entries of id-keyed maps:
/// `id` is not stored but taken from the map key.
macro_rules! am_struct {
    ($ty:ident { $($f:ident : $mode:ident),* $(,)? }) => {
        impl $crate::doc::value::AmValue for $ty {
            fn to_am(&self) -> Option<automerge::hydrate::Value> {
                Some($crate::doc::value::map_value([
                    $( (stringify!($f).to_owned(), $crate::doc::modes::$mode::to_am(&self.$f)), )*
                ]))
            }
            fn from_am(
                v: Option<&automerge::hydrate::Value>,
                at: $crate::doc::value::At<'_>,
            ) -> Result<Self, $crate::doc::DocError> {
                let m = $crate::doc::value::as_map(v, at)?;
                Ok($ty {
                    $( $f: $crate::doc::modes::$mode::from_am(m.get(stringify!($f)), at.child(stringify!($f)))?, )*
                })
            }
            fn update_am(
                &self,
                old: &Self,
                doc: &mut automerge::AutoCommit,
                obj: &automerge::ObjId,
                key: &str,
            ) -> Result<(), $crate::doc::DocError> {
                if self == old {
                    return Ok(());
                }
                match $crate::doc::value::child_map(doc, obj, key)? {
                    Some(map) => $crate::doc::value::AmStruct::update_fields(self, old, doc, &map),
                    None => $crate::doc::value::write(doc, obj, key, $crate::doc::value::AmValue::to_am(self)),
                }
            }
        }
        impl $crate::doc::value::AmStruct for $ty {
            #[allow(unused_variables)]
            fn update_fields(
                &self,
                old: &Self,
                doc: &mut automerge::AutoCommit,
                obj: &automerge::ObjId,
            ) -> Result<(), $crate::doc::DocError> {
                $( $crate::doc::modes::$mode::update(&self.$f, &old.$f, doc, obj, stringify!($f))?; )*
                Ok(())
            }
        }
    };
    ($ty:ident [$idf:ident : $idty:ty] { $($f:ident : $mode:ident),* $(,)? }) => {
        impl $crate::doc::value::AmValue for $ty {
            fn to_am(&self) -> Option<automerge::hydrate::Value> {
                Some($crate::doc::value::map_value([
                    $( (stringify!($f).to_owned(), $crate::doc::modes::$mode::to_am(&self.$f)), )*
                ]))
            }
            fn from_am(
                _v: Option<&automerge::hydrate::Value>,
                at: $crate::doc::value::At<'_>,
            ) -> Result<Self, $crate::doc::DocError> {
                Err(at.error("an entry of an id-keyed map"))
            }
            fn from_am_entry<K: $crate::doc::value::MapKey>(
                key: &K,
                v: Option<&automerge::hydrate::Value>,
                at: $crate::doc::value::At<'_>,
            ) -> Result<Self, $crate::doc::DocError> {
                let $idf: $idty = key.as_uuid().map(<$idty>::from).ok_or_else(|| at.error("an id key"))?;
                let m = $crate::doc::value::as_map(v, at)?;
                Ok($ty {
                    $idf,
                    $( $f: $crate::doc::modes::$mode::from_am(m.get(stringify!($f)), at.child(stringify!($f)))?, )*
                })
            }
            fn update_am(
                &self,
                old: &Self,
                doc: &mut automerge::AutoCommit,
                obj: &automerge::ObjId,
                key: &str,
            ) -> Result<(), $crate::doc::DocError> {
                if self == old {
                    return Ok(());
                }
                match $crate::doc::value::child_map(doc, obj, key)? {
                    Some(map) => $crate::doc::value::AmStruct::update_fields(self, old, doc, &map),
                    None => $crate::doc::value::write(doc, obj, key, $crate::doc::value::AmValue::to_am(self)),
                }
            }
        }
        impl $crate::doc::value::AmStruct for $ty {
            fn update_fields(
                &self,
                old: &Self,
                doc: &mut automerge::AutoCommit,
                obj: &automerge::ObjId,
            ) -> Result<(), $crate::doc::DocError> {
                $( $crate::doc::modes::$mode::update(&self.$f, &old.$f, doc, obj, stringify!($f))?; )*
                Ok(())
            }
        }
    };
}
pub(crate) use am_struct;
