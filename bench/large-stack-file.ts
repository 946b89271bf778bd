// A stack file of N services shaped like a real one (anchors, interpolation, ports,
// volumes, networks, health checks, a dependency chain), for benchmarks.

export function largeStackFile(services: number): string {
  const lines = ['x-common: &common', '  restart: unless-stopped', '  logging:', '    driver: json-file', '    options:', '      max-size: "10m"', 'services:'];
  for (let i = 0; i < services; i++) {
    lines.push(
      `  svc${i}:`,
      '    <<: *common',
      `    image: registry.example.test/team/svc${i}:\${TAG:-1.0}`,
      `    command: ["serve", "--port", "80${String(i % 100).padStart(2, '0')}"]`,
      '    environment:',
      `      SERVICE_NAME: svc${i}`,
      '      LOG_LEVEL: ${LOG_LEVEL:-info}',
      `    ports: ["127.0.0.1:${20000 + i}:80"]`,
      `    volumes: ["data${i}:/var/lib/data", "./config/svc${i}:/etc/svc:ro"]`,
      '    networks: [front, back]',
      '    healthcheck:',
      '      test: ["CMD", "true"]',
      '      interval: 10s',
      '      timeout: 3s',
      '      retries: 3',
      `    labels: { team: core, index: "${i}" }`,
    );
    if (i > 0) lines.push('    depends_on:', `      svc${i - 1}:`, '        condition: service_started');
  }
  lines.push('networks:', '  front: {}', '  back: { internal: true }', 'volumes:');
  for (let i = 0; i < services; i++) lines.push(`  data${i}: {}`);
  return `${lines.join('\n')}\n`;
}
