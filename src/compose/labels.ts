// The labels Docker Compose puts on what it makes, which we put on ours too: they are how
// `up` and `down` find a project's containers, networks and volumes again (the engine
// keeps no notion of a project), and how `docker compose ps` would recognise them.

export const LABEL = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  number: 'com.docker.compose.container-number',
  oneoff: 'com.docker.compose.oneoff',
  /** A one-off's random ID; its name ends with the first 12 hex digits of it. */
  slug: 'com.docker.compose.slug',
  configHash: 'com.docker.compose.config-hash',
  workingDir: 'com.docker.compose.project.working_dir',
  configFiles: 'com.docker.compose.project.config_files',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
  image: 'com.docker.compose.image',
} as const;
