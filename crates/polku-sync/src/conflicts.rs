//! Generic conflict detection on an Automerge document, for the session
//! report. (`polku_core`'s `Doc::conflicts` lists them for people; here we
//! only need to know whether a document holds any.)

use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, Value, ValueRef};

/// Deepest nesting walked; deeper objects are not inspected (a hostile
/// document cannot exhaust the stack).
const MAX_DEPTH: usize = 64;

/// Whether any field of the document holds two or more distinct concurrent values.
pub fn has_conflicts(doc: &AutoCommit) -> bool {
    walk(doc, &ROOT, 0)
}

fn distinct(values: &[(Value<'_>, ObjId)]) -> bool {
    let Some((first, _)) = values.first() else {
        return false;
    };
    values.iter().skip(1).any(|(v, _)| match (first, v) {
        (Value::Scalar(a), Value::Scalar(b)) => a != b,
        _ => true,
    })
}

fn is_container(v: &ValueRef<'_>) -> bool {
    matches!(
        v,
        ValueRef::Object(ObjType::Map | ObjType::Table | ObjType::List)
    )
}

fn walk(doc: &AutoCommit, obj: &ObjId, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    match doc.object_type(obj) {
        Ok(ObjType::Map | ObjType::Table) => {
            for item in doc.map_range(obj, ..) {
                if item.conflict
                    && doc
                        .get_all(obj, item.key.as_ref())
                        .is_ok_and(|all| distinct(&all))
                {
                    return true;
                }
                if is_container(&item.value) && walk(doc, &item.id(), depth + 1) {
                    return true;
                }
            }
            false
        }
        Ok(ObjType::List) => {
            for item in doc.list_range(obj, ..) {
                if item.conflict && doc.get_all(obj, item.index).is_ok_and(|all| distinct(&all)) {
                    return true;
                }
                if is_container(&item.value) && walk(doc, &item.id(), depth + 1) {
                    return true;
                }
            }
            false
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;

    #[test]
    fn concurrent_puts_conflict_equal_ones_do_not() {
        let mut a = AutoCommit::new();
        let m = a
            .put_object(ROOT, "basic", ObjType::Map)
            .expect("put object");
        a.put(&m, "phone", "1").expect("put");
        a.commit();
        let mut b = a.fork();
        let mut c = a.fork();
        a.put(&m, "phone", "2").expect("put");
        b.put(&m, "phone", "3").expect("put");
        c.put(&m, "phone", "2").expect("put");
        a.commit();
        b.commit();
        c.commit();
        let mut same = a.clone();
        same.merge(&mut c).expect("merge");
        assert!(!has_conflicts(&same));
        a.merge(&mut b).expect("merge");
        assert!(has_conflicts(&a));
    }
}
