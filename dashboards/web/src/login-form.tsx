/** Token login: the form trades an API token for an HttpOnly session cookie; the page never keeps the token. */
import { useEffect, useRef, useState } from 'preact/hooks';

import { login, type Session } from './api';

export function LoginForm(props: { message: string; onLogin: (session: Session) => void }) {
  const [error, setError] = useState(props.message);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const submit = async (event: Event) => {
    event.preventDefault();
    const token = input.current?.value.trim() ?? '';
    try {
      const session = await login(token);
      if (input.current) input.current.value = '';
      props.onLogin(session);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      input.current?.focus();
    }
  };
  return (
    <main id="main">
      <form class="card login" aria-labelledby="login-title" onSubmit={(e) => void submit(e)}>
        <h1 id="login-title">Log in to storeloop</h1>
        <label for="token">API token</label>
        <input
          id="token"
          ref={input}
          name="token"
          type="password"
          autocomplete="current-password"
          spellcheck={false}
          required
          aria-describedby="token-help login-error"
        />
        <p id="token-help" class="muted">
          A token with the analyst scope (or operator, admin): <code>storeloop tokens add --name NAME --scope analyst</code>. The browser keeps a session
          cookie, not the token.
        </p>
        <button type="submit">Log in</button>
        <p id="login-error" class="error" role="alert">
          {error}
        </p>
      </form>
    </main>
  );
}
