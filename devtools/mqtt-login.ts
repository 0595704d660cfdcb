/**
 * An MQTT login carried in a broker URL (`mqtt://user:pass@host:port`): MQTT.js reads the user name and
 * password from it, so tests and the bench hand one string to every client they start.
 */
export interface MqttLogin {
  username: string;
  password: string;
}

/** `url` with `login` in its user-info part (percent-encoded: device names hold a `/`). */
export function urlWithLogin(url: string, login: MqttLogin): string {
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(login.username);
  parsed.password = encodeURIComponent(login.password);
  return parsed.toString().replace(/\/$/, '');
}
