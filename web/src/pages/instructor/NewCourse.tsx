import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { useMutation } from "urql";
import { TextArea, TextField } from "../../components/Form";
import { Page } from "../../components/Page";
import { ErrorNotice } from "../../components/Status";
import { CreateCourseDocument } from "../../gql/graphql";
import { t } from "../../i18n";
import { paths } from "../../paths";

export const TITLE_MAX = 200;
export const DESCRIPTION_MAX = 5000;

export default function NewCourse() {
  const navigate = useNavigate();
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [missingTitle, setMissingTitle] = useState(false);
  const [creation, create] = useMutation(CreateCourseDocument);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!title.trim()) {
      setMissingTitle(true);
      return;
    }
    const result = await create({ title: title.trim(), description: description.trim() });
    if (result.data) navigate(paths.editor(result.data.createCourse.id));
  };
  return (
    <Page title={t("newCourse.title")} lead={t("newCourse.lead")}>
      <form className="form" onSubmit={submit} noValidate>
        <TextField
          label={t("course.fieldTitle")}
          value={title}
          maxLength={TITLE_MAX}
          required
          onChange={(e) => {
            setTitle(e.target.value);
            setMissingTitle(false);
          }}
          error={missingTitle ? t("form.required") : null}
        />
        <TextArea
          label={t("course.fieldDescription")}
          value={description}
          maxLength={DESCRIPTION_MAX}
          rows={4}
          onChange={(e) => setDescription(e.target.value)}
          hint={t("course.descriptionHint")}
        />
        {creation.error ? <ErrorNotice error={creation.error} /> : null}
        <button type="submit" className="button" disabled={creation.fetching}>
          {t("newCourse.create")}
        </button>
      </form>
    </Page>
  );
}
