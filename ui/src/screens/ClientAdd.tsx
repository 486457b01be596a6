import { useState } from "react";
import { Button, Heading, TextInput } from "suomifi-ui-components";
import { api } from "../api/commands";
import type { ErrorDto } from "../api/types";
import { useI18n } from "../i18n";
import { useApp } from "../context";
import { todayIso } from "../format";
import { CodeSelect, DateField, ErrorAlert, Form, readDate, Select } from "../components/ui";

export function ClientAdd() {
  const { t } = useI18n();
  const { me, go, notify, bumpData } = useApp();
  const [first, setFirst] = useState("");
  const [last, setLast] = useState("");
  const [birth, setBirth] = useState("");
  const [gender, setGender] = useState("");
  const [tongue, setTongue] = useState("");
  const [unit, setUnit] = useState(me.units[0]?.name ?? "");
  const [v, setV] = useState<{ name?: string; birth?: string }>({});
  const [error, setError] = useState<ErrorDto | null>(null);
  const [busy, setBusy] = useState(false);

  async function save() {
    const w: typeof v = {};
    if (!first.trim() && !last.trim()) w.name = t("add.need_name");
    const d = readDate(birth, t, false);
    if (!d.ok) w.birth = d.error;
    else if (d.value && d.value > todayIso()) w.birth = t("add.future_date");
    setV(w);
    setError(null);
    if (w.name || w.birth || !d.ok) return;
    setBusy(true);
    try {
      const { id } = await api.clientAdd({
        first_name: first.trim(),
        last_name: last.trim(),
        birth_date: d.value,
        gender: gender || null,
        mother_tongue: tongue || null,
        unit: unit || null,
      });
      notify(t("add.saved"));
      bumpData();
      go({ view: "client", id });
    } catch (e) {
      setError(e as ErrorDto);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="add-title" className="narrow">
      <Heading variant="h1" id="add-title">
        {t("add.title")}
      </Heading>
      <Form onSubmit={save} testid="client-add-form">
        <div className="two-col">
          <TextInput
            labelText={t("add.first")}
            value={first}
            onChange={(x) => setFirst(String(x ?? ""))}
            status={v.name ? "error" : "default"}
            statusText={v.name}
            autoFocus
            autoComplete="off"
            data-testid="add-first"
            fullWidth
          />
          <TextInput
            labelText={t("add.last")}
            value={last}
            onChange={(x) => setLast(String(x ?? ""))}
            status={v.name ? "error" : "default"}
            autoComplete="off"
            data-testid="add-last"
            fullWidth
          />
        </div>
        <DateField label={t("add.birth")} value={birth} onChange={setBirth} error={v.birth} testid="add-birth" optional />
        <div className="two-col">
          <CodeSelect list="gender" label={t("add.gender")} value={gender} onChange={setGender} data-testid="add-gender" />
          <CodeSelect list="mother_tongue" label={t("add.tongue")} value={tongue} onChange={setTongue} data-testid="add-tongue" />
        </div>
        {me.units.length > 1 && (
          <Select label={t("add.unit")} value={unit} onChange={setUnit} data-testid="add-unit">
            {me.units.map((u) => (
              <option key={u.id} value={u.name}>
                {u.name}
              </option>
            ))}
          </Select>
        )}
        <ErrorAlert error={error} testid="add-error" />
        <div className="row">
          <Button type="submit" disabled={busy} data-testid="add-save">
            {t("add.save")}
          </Button>
          <Button type="button" variant="secondary" onClick={() => go({ view: "clients" })}>
            {t("common.cancel")}
          </Button>
        </div>
      </Form>
    </section>
  );
}
