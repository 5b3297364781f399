// The Google variables rhacs-sts acts on itself, read at the entry point and passed in (never read here).

/** Where Google's application default credentials are looked for, as gcloud and Google's libraries do. */
export interface GcpEnvironment {
  /** GOOGLE_APPLICATION_CREDENTIALS: a credentials file (authorized_user, service_account, external_account). */
  applicationCredentials?: string;
  /** CLOUDSDK_CONFIG: gcloud's configuration folder, where `gcloud auth application-default login` writes. */
  cloudsdkConfig?: string;
  /** HOME (APPDATA on Windows): gcloud's folder is `~/.config/gcloud` (`%APPDATA%\gcloud`) by default. */
  home?: string;
  appData?: string;
}
