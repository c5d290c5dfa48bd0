// A course's modules: add, edit, delete, and reorder by dragging or with the Move up / Move down buttons
// (the keyboard way; focus stays on the moved module and the new position is announced).
import { useEffect, useRef, useState, type DragEvent, type FormEvent } from "react";
import { useMutation } from "urql";
import { describe } from "../../api/errors";
import { Confirm } from "../../components/Confirm";
import { TextArea, TextField } from "../../components/Form";
import { Section } from "../../components/Page";
import { Empty, ErrorNotice } from "../../components/Status";
import {
  CreateModuleDocument,
  DeleteModuleDocument,
  ReorderModulesDocument,
  UpdateModuleDocument,
  type EditorModuleFragment,
} from "../../gql/graphql";
import { percent, t } from "../../i18n";
import type { EditedCourse } from "./CourseEditor";
import { DESCRIPTION_MAX, TITLE_MAX } from "./NewCourse";

type Module = EditorModuleFragment;

function ModuleForm({
  initial,
  submitLabel,
  busy,
  error,
  onSubmit,
  onCancel,
}: {
  initial?: Module;
  submitLabel: string;
  busy: boolean;
  error: unknown;
  onSubmit(values: { title: string; description: string; passMark: number | null }): Promise<boolean>;
  onCancel?(): void;
}) {
  const [title, setTitle] = useState(initial?.title ?? "");
  const [description, setDescription] = useState(initial?.description ?? "");
  const [pass, setPass] = useState(initial ? String(Math.round(initial.passMark * 100)) : "");
  const [invalid, setInvalid] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const mark = pass.trim() ? Number(pass) : null;
    if (!title.trim()) return setInvalid(t("form.required"));
    if (mark !== null && (!Number.isFinite(mark) || mark < 1 || mark > 100)) return setInvalid(t("modules.passMarkRange"));
    setInvalid(null);
    if (await onSubmit({ title: title.trim(), description: description.trim(), passMark: mark === null ? null : mark / 100 })) {
      if (!initial) {
        setTitle("");
        setDescription("");
        setPass("");
      }
    }
  };
  return (
    <form className="form module-form" onSubmit={submit} noValidate>
      <TextField label={t("modules.fieldTitle")} value={title} maxLength={TITLE_MAX} required onChange={(e) => setTitle(e.target.value)} />
      <TextArea label={t("modules.fieldDescription")} value={description} maxLength={DESCRIPTION_MAX} rows={2} onChange={(e) => setDescription(e.target.value)} />
      <TextField
        label={t("modules.fieldPassMark")}
        type="number"
        inputMode="numeric"
        min={1}
        max={100}
        value={pass}
        onChange={(e) => setPass(e.target.value)}
        hint={t("modules.passMarkHint")}
      />
      {invalid ? <p className="field__error" role="alert">{invalid}</p> : null}
      {error ? <ErrorNotice error={error} /> : null}
      <div className="actions">
        <button type="submit" className="button" disabled={busy}>
          {submitLabel}
        </button>
        {onCancel ? (
          <button type="button" className="button button--ghost" onClick={onCancel}>
            {t("action.cancel")}
          </button>
        ) : null}
      </div>
    </form>
  );
}

export function Modules({ course, onChanged }: { course: EditedCourse; onChanged(): void }) {
  const sorted = [...course.modules].sort((a, b) => a.position - b.position);
  const [order, setOrder] = useState<Module[]>(sorted);
  const [editing, setEditing] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  const [dragged, setDragged] = useState<string | null>(null);
  const [over, setOver] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState("");
  const [refocus, setRefocus] = useState<string | null>(null);
  const buttons = useRef(new Map<string, HTMLButtonElement>());
  const [reordering, reorder] = useMutation(ReorderModulesDocument);
  const [creation, create] = useMutation(CreateModuleDocument);
  const [update, save] = useMutation(UpdateModuleDocument);
  const [removal, remove] = useMutation(DeleteModuleDocument);

  const key = sorted.map((m) => `${m.id}:${m.position}:${m.title}:${m.passMark}:${m.description}`).join("|");
  // Follow the server's modules whenever they change (compared by content: a refetch makes new objects).
  useEffect(() => setOrder(sorted), [key]);
  useEffect(() => {
    if (!refocus) return;
    const [id, direction] = refocus.split(":");
    const target = buttons.current.get(`${id}:${direction}`);
    const other = buttons.current.get(`${id}:${direction === "up" ? "down" : "up"}`);
    (target && !target.disabled ? target : other)?.focus();
    setRefocus(null);
  }, [refocus, order]);

  // The buttons stay enabled while a move is saved (a disabled button would drop the keyboard focus).
  const move = async (from: number, to: number, direction?: "up" | "down") => {
    if (to < 0 || to >= order.length || from === to || reordering.fetching) return;
    const previous = order;
    const next = [...order];
    const [moved] = next.splice(from, 1);
    next.splice(to, 0, moved!);
    setOrder(next);
    if (direction) setRefocus(`${moved!.id}:${direction}`);
    setAnnouncement(t("modules.moved", { title: moved!.title, position: to + 1, total: next.length }));
    const result = await reorder({ courseId: course.id, moduleIds: next.map((m) => m.id) });
    if (result.error) {
      setOrder(previous);
      setAnnouncement(describe(result.error));
    } else onChanged();
  };

  const onDrop = (event: DragEvent, target: string) => {
    event.preventDefault();
    const source = dragged ?? event.dataTransfer.getData("text/plain");
    setDragged(null);
    setOver(null);
    const from = order.findIndex((m) => m.id === source);
    const to = order.findIndex((m) => m.id === target);
    if (from >= 0 && to >= 0) void move(from, to);
  };

  return (
    <Section title={t("modules.title")}>
      <p className="muted">{t("modules.reorderHint")}</p>
      <p className="sr-only" role="status">
        {announcement}
      </p>
      {reordering.error ? <ErrorNotice error={reordering.error} /> : null}
      {!order.length ? <Empty title={t("modules.empty")} /> : null}
      <ol className="reorder">
        {order.map((module, index) => (
          <li
            key={module.id}
            className={`reorder__item${dragged === module.id ? " reorder__item--dragged" : ""}${over === module.id && dragged !== module.id ? " reorder__item--over" : ""}`}
            draggable={editing !== module.id}
            data-module-id={module.id}
            onDragStart={(event) => {
              event.dataTransfer.setData("text/plain", module.id);
              event.dataTransfer.effectAllowed = "move";
              setDragged(module.id);
            }}
            onDragOver={(event) => {
              event.preventDefault();
              event.dataTransfer.dropEffect = "move";
              setOver(module.id);
            }}
            onDragLeave={() => setOver((current) => (current === module.id ? null : current))}
            onDrop={(event) => onDrop(event, module.id)}
            onDragEnd={() => {
              setDragged(null);
              setOver(null);
            }}
          >
            <div className="reorder__row">
              <span className="reorder__handle" aria-hidden="true">
                ⠿
              </span>
              <span className="reorder__position">{index + 1}</span>
              <div className="reorder__main">
                <h3 className="reorder__title">{module.title}</h3>
                <p className="muted">
                  {t("modules.passMark", { value: percent(module.passMark) })}
                  {" · "}
                  {module.objectivesVersion === 0
                    ? t("modules.noObjectives")
                    : t(module.objectivesApproved ? "modules.objectivesApproved" : "modules.objectivesToReview")}
                </p>
              </div>
              <div className="reorder__buttons">
                <button
                  type="button"
                  className="button button--small button--secondary"
                  ref={(el) => void (el ? buttons.current.set(`${module.id}:up`, el) : buttons.current.delete(`${module.id}:up`))}
                  aria-label={t("modules.moveUp", { title: module.title })}
                  disabled={index === 0}
                  onClick={() => void move(index, index - 1, "up")}
                >
                  ↑
                </button>
                <button
                  type="button"
                  className="button button--small button--secondary"
                  ref={(el) => void (el ? buttons.current.set(`${module.id}:down`, el) : buttons.current.delete(`${module.id}:down`))}
                  aria-label={t("modules.moveDown", { title: module.title })}
                  disabled={index === order.length - 1}
                  onClick={() => void move(index, index + 1, "down")}
                >
                  ↓
                </button>
                <button
                  type="button"
                  className="button button--small button--ghost"
                  aria-label={t("modules.editOne", { title: module.title })}
                  aria-expanded={editing === module.id}
                  onClick={() => setEditing(editing === module.id ? null : module.id)}
                >
                  {t("action.edit")}
                </button>
                <button
                  type="button"
                  className="button button--small button--ghost"
                  aria-label={t("modules.deleteOne", { title: module.title })}
                  onClick={() => setDeleting(module.id)}
                >
                  {t("action.delete")}
                </button>
              </div>
            </div>
            {editing === module.id ? (
              <ModuleForm
                initial={module}
                submitLabel={t("action.save")}
                busy={update.fetching}
                error={update.error}
                onCancel={() => setEditing(null)}
                onSubmit={async (values) => {
                  const result = await save({ courseId: course.id, moduleId: module.id, ...values });
                  if (result.error) return false;
                  setEditing(null);
                  onChanged();
                  return true;
                }}
              />
            ) : null}
            {deleting === module.id ? (
              <Confirm
                label={t("modules.deleteOne", { title: module.title })}
                message={t("modules.deleteConfirm", { title: module.title })}
                confirmLabel={t("action.delete")}
                busy={removal.fetching}
                error={removal.error}
                onCancel={() => setDeleting(null)}
                onConfirm={async () => {
                  const result = await remove({ courseId: course.id, moduleId: module.id });
                  if (!result.error) {
                    setDeleting(null);
                    onChanged();
                  }
                }}
              />
            ) : null}
          </li>
        ))}
      </ol>
      <h3>{t("modules.add")}</h3>
      <ModuleForm
        submitLabel={t("modules.addButton")}
        busy={creation.fetching}
        error={creation.error}
        onSubmit={async (values) => {
          const result = await create({ courseId: course.id, ...values });
          if (result.error) return false;
          setAnnouncement(t("modules.added", { title: values.title }));
          onChanged();
          return true;
        }}
      />
    </Section>
  );
}
