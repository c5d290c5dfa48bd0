import { Link } from "react-router";
import { Page } from "../components/Page";
import { t } from "../i18n";

export default function NotFound() {
  return (
    <Page title={t("notFound.title")}>
      <p>{t("notFound.text")}</p>
      <p>
        <Link to="/">{t("notFound.home")}</Link>
      </p>
    </Page>
  );
}
