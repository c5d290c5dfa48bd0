import { AccountForm } from "./Account";

export default function LogIn() {
  return <AccountForm mode="logIn" />;
}
