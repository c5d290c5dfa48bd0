import { AccountForm } from "./Account";

export default function SignUp() {
  return <AccountForm mode="signUp" />;
}
