import type { CommandModule } from 'yargs';
const command: CommandModule = { command: 'inspect <file>', describe: 'show what a PyTorch checkpoint holds', handler: () => { console.log('todo'); } };
export default command;
