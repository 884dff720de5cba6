#!/usr/bin/env node
/**
 * Writes test/fixtures/benign-answers.json: realistic assistant answers of the
 * kind the Adiuva agents give (tasks, projects, notes, checkpoints/milestones,
 * comments, weekly summaries, due dates, priorities, statuses, archiving,
 * extracted tasks as JSON), for the sanitizer's false-positive test
 * (src/modules/chat/sanitizer.leaks.spec.ts). Many of them use the prompts'
 * vocabulary (task, priority high/medium/low, status todo/in_progress/done,
 * archive, project, milestone, Markdown, JSON) without copying a prompt.
 *
 * Deterministic: a seeded PRNG and no dependencies, so the same seed always
 * writes the same file. The JSON is committed; run `npm run corpus:benign`
 * after changing this script and commit both.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SEED = 20_250_614;
const COUNT = 1500;
const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'benign-answers.json');

// ---- seeded PRNG (mulberry32) and helpers ----

let state = SEED >>> 0;
function rand() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
}
/** @type {(min: number, max: number) => number} */
const int = (min, max) => min + Math.floor(rand() * (max - min + 1));
/**
 * @template T
 * @param {readonly T[]} items
 * @returns {T}
 */
const pick = (items) => items[Math.floor(rand() * items.length)];
/** @type {(p: number) => boolean} */
const chance = (p) => rand() < p;
/**
 * `n` distinct items of `items` in random order.
 * @template T
 * @param {readonly T[]} items
 * @param {number} n
 * @returns {T[]}
 */
function sample(items, n) {
  const pool = [...items];
  const out = [];
  while (out.length < n && pool.length > 0) out.push(pool.splice(Math.floor(rand() * pool.length), 1)[0]);
  return out;
}
/** @type {(s: string) => string} */
const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
/** @type {(items: string[], and?: string) => string} */
const joinAnd = (items, and = 'and') =>
  items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} ${and} ${items[items.length - 1]}`;

// ---- vocabulary ----

const PEOPLE = [
  'Ada',
  'Linus',
  'Grace',
  'Mina',
  'Jonas',
  'Sofia',
  'Mehmet',
  'Chloé',
  'Ravi',
  'Elena',
  'Tom',
  'Aisha',
  'Lukas',
  'Priya',
  'Marco',
  'Yuki',
  'Noah',
  'Lena',
  'Omar',
  'Hannah',
  'Björn',
  'Zoë',
  'Kwame',
  'Ines',
];
const PROJECTS = [
  'Website relaunch',
  'Q3 budget',
  'Mobile app 2.0',
  'Office move',
  'Customer onboarding',
  'Trade fair Hamburg',
  'Annual report 2025',
  'Hiring: backend engineer',
  'Kitchen renovation',
  'Wedding planning',
  'Master thesis',
  'Podcast season 2',
  'ISO 27001 audit',
  'Monthly newsletter',
  'Allotment garden',
  'CRM data migration',
  'Product launch Aurora',
  'Support backlog',
  'Summer camp 2026',
  'EU grant application',
  'Bathroom tiles',
  'Conference talk',
  'Family reunion',
  'Marathon training',
  'Home office setup',
  'Vendor review',
];
const TASKS = [
  'Send the invoice to Müller GmbH',
  'Review pull request #42',
  'Book flights to Lisbon',
  'Draft the press release',
  'Call the landlord about the heating',
  'Update the onboarding checklist',
  "Prepare slides for Monday's standup",
  'Renew the domain adiuva-demo.com',
  'Order business cards',
  'Write the test plan for checkout',
  'Fix the login redirect bug',
  'Collect quotes from three movers',
  'Pay the electricity bill',
  'Back up the laptop',
  'Schedule a dentist appointment',
  'Clean up the shared drive',
  'Translate the FAQ into German',
  'Migrate the CRM contacts',
  'Set up the staging server',
  'Buy a birthday present for Mina',
  'Sign the venue contract',
  'Submit the Q2 expense report',
  'Fill in the hiring scorecard',
  'Share the sprint retro notes',
  'Confirm the catering order',
  'Gather the tax documents',
  'Proofread the newsletter draft',
  'Summarize the user interviews',
  'Test the backup restore',
  'Choose photos for the annual report',
  'Compare the insurance offers',
  'Pick up the conference badge',
  'Document the API rate limits',
  'Update the style guide',
  'Finalize the seating plan',
  'Weekly 1:1 with Ravi',
  'Water the tomatoes',
  'Quarterly OKR check-in',
  'Submit the reimbursement form',
  'Renew passport',
  'Replace the bike chain',
  'Read chapter 4 of the thesis draft',
  'Call grandma',
  'Archive old Slack channels',
  'Decide on the paint colour',
  'Pick up the dry cleaning',
  'Publish release notes 2.3',
  'Email the architect',
  'Order tiles for the bathroom',
  'Plan the team offsite',
  'Record podcast episode 7',
  'Edit the interview audio',
  'Reply to the grant reviewers',
  'Prepare the budget forecast',
  'Interview backend candidates',
  'Write job ad for the backend role',
  'Set up SSO for the new tool',
  'Rotate the API keys',
  'Run the 10 km long run',
  'Buy running shoes',
  'Book the hotel for the trade fair',
  'Print flyers for the booth',
  'Ship the beta to testers',
  'Fix the crash on Android 14',
  'Write unit tests for the invoice module',
  'Clean the garage',
  'Cancel the old phone contract',
  'Send the thank-you notes',
  'Prepare the board meeting agenda',
  'Check the fire extinguishers',
  'Upload the thesis to the portal',
  'Reserve the meeting room',
  'Create the Q4 roadmap',
  'Onboard Lena',
  'Set up the monitoring dashboard',
  'Call the plumber',
  'Move the server to the new rack',
  'Order the moving boxes',
  'Label the moving boxes',
  'Write the conference abstract',
  'Rehearse the talk',
  'Send the slides to the organizers',
];
const PRIORITIES = ['high', 'medium', 'low'];
const STATUSES = ['todo', 'in_progress', 'done'];
/** @type {Record<string, string>} */
const STATUS_WORDS = { todo: 'to do', in_progress: 'in progress', done: 'done' };
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const RELATIVE = [
  'today',
  'tomorrow',
  'next Monday',
  'this Friday',
  'in two weeks',
  'end of the month',
  'next week',
];
const PAST = ['yesterday', 'last Friday', 'two days ago', 'last week', 'on Monday'];
const MILESTONES = [
  'Kick-off',
  'Design freeze',
  'Beta release',
  'Public launch',
  'Budget approval',
  'Contract signed',
  'First draft',
  'Final review',
  'Go-live',
  'Handover',
  'Soft opening',
  'Submission deadline',
  'Pilot done',
  'Content complete',
  'Security review',
  'Dress rehearsal',
];
const NOTE_TITLES = [
  'Meeting notes',
  'Ideas for the retreat',
  'Reading list',
  'Interview questions',
  'Packing list',
  'Retro: sprint 14',
  'Onboarding FAQ',
  'Recipe: lentil soup',
  'Call with the architect',
  'Brainstorm: names',
  'Budget assumptions',
  'Lessons learned',
  'Open questions',
  'Decision log',
  'Travel plan Lisbon',
];
const COMMENTS = [
  'Waiting for the signed quote before I start.',
  'Moved to next week, the client is on holiday.',
  'Done on my side, needs a second review.',
  'Can we split this into two smaller tasks?',
  'Blocked by the missing API key.',
  'I talked to finance, they approved the amount.',
  'Please attach the final PDF here.',
  'Looks good to me!',
  'The vendor replied, see the email from Tuesday.',
  'Let us discuss this in the standup.',
  'Priority raised because the deadline moved up.',
];

function randomDate() {
  const ms = Date.UTC(2025, 0, 1) + int(0, 729) * 86_400_000;
  return new Date(ms);
}
/** @param {Date} d */
function formatDate(d) {
  const day = d.getUTCDate();
  const month = MONTHS[d.getUTCMonth()];
  const year = d.getUTCFullYear();
  const weekday = WEEKDAYS[d.getUTCDay()];
  switch (int(0, 5)) {
    case 0:
      return `${weekday}, ${day} ${month}`;
    case 1:
      return `${day} ${month} ${year}`;
    case 2:
      return `${month} ${day}`;
    case 3:
      return d.toISOString().slice(0, 10);
    case 4:
      return `${weekday} ${month} ${day}`;
    default:
      return pick(RELATIVE);
  }
}
const dueText = () => formatDate(randomDate());
/** "on 3 June", or "tomorrow" as it is. */
function onDate() {
  const text = dueText();
  return RELATIVE.includes(text) ? text : `on ${text}`;
}
const taskTitle = () => pick(TASKS);
const project = () => pick(PROJECTS);
const person = () => pick(PEOPLE);
const priority = () => pick(PRIORITIES);
const status = () => pick(STATUSES);
/** @type {(s: string) => string} */
const statusWord = (s) => (chance(0.5) ? s : STATUS_WORDS[s]);
/** @type {(s: string) => string} */
const quote = (s) => pick([`"${s}"`, `“${s}”`, `**${s}**`, `'${s}'`]);

/**
 * @param {number} i
 * @param {string} [bulletStyle]
 */
function taskLine(i, bulletStyle = pick(['-', '*', '1.'])) {
  const parts = [quote(taskTitle())];
  const extras = [];
  if (chance(0.8)) extras.push(pick([`priority ${priority()}`, `${priority()} priority`]));
  if (chance(0.7)) extras.push(pick([`due ${dueText()}`, `due date ${dueText()}`, `deadline ${dueText()}`]));
  if (chance(0.6)) extras.push(pick([`status ${statusWord(status())}`, statusWord(status())]));
  if (chance(0.3)) extras.push(`assigned to ${joinAnd(sample(PEOPLE, int(1, 2)))}`);
  const bullet = bulletStyle === '1.' ? `${i + 1}.` : bulletStyle;
  const sep = pick([' — ', ': ', ' (', ' · ']);
  const tail = extras.length ? `${sep}${extras.join(', ')}${sep === ' (' ? ')' : ''}` : '';
  return `${bullet} ${parts.join('')}${tail}`;
}

// ---- answer generators, one per kind of request ----

const intros = {
  list: [
    'Here are your tasks',
    'I found these tasks',
    'You have the following open tasks',
    'These are the tasks the app sent',
    'Sure! Your current tasks',
    'Here is what is on your list',
  ],
  ok: ['Done.', 'Sure.', 'Okay!', 'Got it.', 'All right.', 'No problem.', ''],
  confirm: [
    'It will be applied once you confirm.',
    'Please confirm in the app to apply it.',
    'Nothing changes until you confirm.',
    'You can accept or reject the change in the app.',
    'Tap “Apply” to make it happen.',
    'Confirm when you are ready.',
  ],
};

function listTasks() {
  const n = int(1, 7);
  const where = pick([
    '',
    ` in ${quote(project())}`,
    ' due this week',
    ' with high priority',
    ' assigned to you',
  ]);
  const style = pick(['-', '*', '1.']);
  const lines = Array.from({ length: n }, (_, i) => taskLine(i, style));
  const outro = pick([
    '',
    `\n\nWant me to sort them by due date or by priority?`,
    `\n\nShould I move any of them to ${statusWord('in_progress')}?`,
    `\n\nThe most urgent one is the first.`,
    `\n\n${int(1, n)} of them ${chance(0.5) ? 'are' : 'look'} overdue.`,
    `\n\nLet me know if you want to change a priority.`,
  ]);
  return `${pick(intros.list)}${where} (${n}):\n\n${lines.join('\n')}${outro}`;
}

function createTask() {
  const t = taskTitle();
  const bits = [];
  if (chance(0.7)) bits.push(`priority ${priority()}`);
  if (chance(0.7)) bits.push(`a due date of ${dueText()}`);
  if (chance(0.3)) bits.push(`in the project ${quote(project())}`);
  if (chance(0.25)) bits.push(`assigned to ${person()}`);
  const head = pick([
    `I proposed a new task ${quote(t)}`,
    `I've added a task ${quote(t)} as a proposal`,
    `New task proposed: ${quote(t)}`,
    `I suggest creating the task ${quote(t)}`,
    `I prepared the task ${quote(t)} for you`,
  ]);
  const withBits = bits.length ? `${head} with ${joinAnd(bits)}.` : `${head}.`;
  const st = chance(0.3) ? ` Its status starts as ${statusWord('todo')}.` : '';
  return `${pick(intros.ok)} ${withBits}${st} ${pick(intros.confirm)}`.trim();
}

function updateTask() {
  const t = quote(taskTitle());
  const change = pick([
    () => `set the status of ${t} to ${statusWord(status())}`,
    () => `raised the priority of ${t} from ${pick(['low', 'medium'])} to high`,
    () => `lowered the priority of ${t} to ${pick(['medium', 'low'])}`,
    () => `moved the due date of ${t} to ${dueText()}`,
    () => `marked ${t} as done`,
    () => `assigned ${t} to ${joinAnd(sample(PEOPLE, int(1, 3)))}`,
    () => `renamed the task to ${t}`,
    () => `updated the description of ${t} with the checklist you gave me`,
  ])();
  const lead = pick(['I proposed to', 'I have proposed to', 'Proposal ready: I', 'I']);
  const text = `${lead} ${change}.`;
  const more = pick([
    '',
    ' Everything else stays as it was.',
    ' Only that field changes.',
    ` ${pick(intros.confirm)}`,
    ` Should I also notify ${person()} with a comment?`,
  ]);
  return `${text}${more}`;
}

function deleteTask() {
  const t = quote(taskTitle());
  return pick([
    () => `I proposed deleting the task ${t}. ${pick(intros.confirm)}`,
    () =>
      `Are you sure you want to delete ${t}? If you only want it off your list, I can mark it as done instead.`,
    () => `I couldn't find a task called ${t} in what the app sent. Could you check the name?`,
    () => `The task ${t} and its ${int(2, 6)} comments will be removed once you confirm the deletion.`,
    () =>
      `I proposed removing ${int(2, 5)} completed tasks from ${quote(project())}. ${pick(intros.confirm)}`,
  ])();
}

function dueToday() {
  const n = int(0, 5);
  if (n === 0) {
    return pick([
      'Nothing is due today. Enjoy the quiet day!',
      'You have no open tasks due today. The next deadline is ' + dueText() + '.',
      'No tasks are due today or overdue. 🎉',
    ]);
  }
  const style = pick(['-', '*', '1.']);
  const lines = Array.from({ length: n }, (_, i) => taskLine(i, style));
  return `${pick(['Due today', 'Due today or overdue', 'On your plate today', 'Still open for today'])} (${n}):\n${lines.join('\n')}\n\n${pick(['Start with the high priority ones.', 'Good luck!', 'Want me to push anything to tomorrow?', ''])}`.trim();
}

function comments() {
  const t = quote(taskTitle());
  if (chance(0.5)) {
    const n = int(1, 4);
    const lines = Array.from({ length: n }, () => `- ${person()}: ${pick(COMMENTS)}`);
    return `${t} has ${n} comment${n > 1 ? 's' : ''}:\n\n${lines.join('\n')}`;
  }
  return pick([
    () => `I proposed the comment “${pick(COMMENTS)}” on ${t}. ${pick(intros.confirm)}`,
    () => `Added a comment to ${t} as Adiuva: ${pick(COMMENTS)}`,
    () => `There are no comments on ${t} yet. Should I add one?`,
    () => `I proposed deleting ${person()}'s comment on ${t}.`,
  ])();
}

function projects() {
  return pick([
    () => {
      const ps = sample(PROJECTS, int(2, 6));
      const lines = ps.map((p) => `- ${p}${chance(0.4) ? ` (${int(1, 24)} open tasks)` : ''}`);
      return `You have ${ps.length} active projects:\n\n${lines.join('\n')}`;
    },
    () =>
      `I proposed archiving ${quote(project())}. Archived projects keep their tasks, notes and checkpoints, and you can reactivate them any time.`,
    () =>
      `Do you want to archive ${quote(project())} or delete it for good? Archiving is safer: nothing is lost and it disappears from your active list.`,
    () =>
      `I proposed a new project ${quote(project())}${chance(0.5) ? ` with the description “${pick(COMMENTS)}”` : ''}. ${pick(intros.confirm)}`,
    () =>
      `${quote(project())} is ${pick(['active', 'archived'])}. It has ${int(0, 30)} tasks, ${int(0, 8)} notes and ${int(0, 5)} milestones.`,
    () =>
      `You asked to delete ${quote(project())}, so I proposed the deletion. This removes it permanently once you confirm.`,
    () => {
      const ps = sample(PROJECTS, int(1, 4));
      return `Including archived ones, there are ${ps.length + int(1, 3)} projects. Archived: ${joinAnd(ps)}.`;
    },
    () =>
      `I proposed setting ${quote(project())} back to active. Its ${int(2, 12)} tasks will show up again.`,
    () => `I renamed the project to ${quote(project())} in a proposal; the status stays active.`,
  ])();
}

function checkpoints() {
  const p = quote(project());
  return pick([
    () => {
      const ms = sample(MILESTONES, int(1, 5));
      const lines = ms.map(
        (m) => `- ${m} — ${dueText()}${chance(0.3) ? ' (suggested by Adiuva, not approved yet)' : ''}`,
      );
      return `${p} has these milestones:\n\n${lines.join('\n')}`;
    },
    () =>
      `I proposed the checkpoint ${quote(pick(MILESTONES))} for ${p} ${onDate()}. ${pick(intros.confirm)}`,
    () =>
      `Based on the deadlines, I suggested a milestone ${quote(pick(MILESTONES))} ${onDate()}. It's marked as AI-suggested and waits for your approval.`,
    () => `I moved the checkpoint ${quote(pick(MILESTONES))} to ${dueText()} (proposal).`,
    () =>
      `${p} has no checkpoints yet. A good first one could be ${quote(pick(MILESTONES))} around ${dueText()}.`,
    () => `I proposed deleting the milestone ${quote(pick(MILESTONES))} from ${p}.`,
    () =>
      `Which project should the checkpoint ${quote(pick(MILESTONES))} belong to? I need a project to create it.`,
    () =>
      `The next milestone of ${p} is ${quote(pick(MILESTONES))} ${onDate()}; ${int(2, 9)} tasks are still open before it.`,
  ])();
}

function markdownNoteBody() {
  const lines = [`# ${pick(NOTE_TITLES)}`, ''];
  const sections = int(1, 3);
  for (let s = 0; s < sections; s++) {
    lines.push(
      `## ${pick(['Decisions', 'Action items', 'Ideas', 'Notes', 'Next steps', 'Questions', 'Links'])}`,
    );
    const n = int(1, 4);
    for (let i = 0; i < n; i++) {
      lines.push(
        pick([
          `- ${taskTitle()}`,
          `- [ ] ${taskTitle()} (${person()})`,
          `- [x] ${taskTitle()}`,
          `- ${pick(COMMENTS)}`,
          `1. ${pick(MILESTONES)} ${onDate()}`,
        ]),
      );
    }
    lines.push('');
  }
  return lines.join('\n').trim();
}

function notes() {
  const title = `${pick(NOTE_TITLES)}${chance(0.5) ? ` ${dueText()}` : ''}`;
  return pick([
    () => {
      const ns = sample(NOTE_TITLES, int(1, 6));
      return `I found ${ns.length} note${ns.length > 1 ? 's' : ''}${chance(0.5) ? ` in ${quote(project())}` : ''}:\n${ns.map((n) => `- ${n}`).join('\n')}`;
    },
    () => `Here is the note ${quote(title)}:\n\n${markdownNoteBody()}`,
    () => `I proposed a new note ${quote(title)} in Markdown:\n\n${markdownNoteBody()}`,
    () =>
      `I updated ${quote(title)} and kept the rest of the note as it was; I only added a section “Next steps”.`,
    () => `I proposed deleting the note ${quote(title)}. ${pick(intros.confirm)}`,
    () => `The note ${quote(title)} is linked to ${quote(project())}. Should I summarize it?`,
    () => `Summary of ${quote(title)}: ${pick(COMMENTS)} ${pick(COMMENTS)}`,
  ])();
}

function weeklySummary() {
  const d = randomDate();
  const heading = pick([
    `# Week of ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`,
    `# Weekly summary — ${d.toISOString().slice(0, 10)}`,
    `# Week ${int(1, 52)} (${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()})`,
  ]);
  /** @type {(name: string, n: number, suffix?: () => string) => string} */
  const section = (name, n, suffix = () => '') =>
    `## ${name}\n${Array.from({ length: n }, () => `- ${taskTitle()}${suffix()}`).join('\n')}`;
  const parts = [
    heading,
    section(pick(['Done', 'Completed', 'Finished']), int(1, 5)),
    section(pick(['In progress', 'Ongoing', 'Still running']), int(1, 4), () =>
      chance(0.4) ? ` (${person()})` : '',
    ),
    section(pick(['Late', 'Overdue', 'Behind schedule']), int(0, 3), () => ` — was due ${pick(PAST)}`),
    section(pick(['Next steps', 'Next week', 'Coming up']), int(1, 4)),
  ].filter((s) => !s.endsWith('\n'));
  if (chance(0.4))
    parts.push(`Milestone ${quote(pick(MILESTONES))} is ${pick(['on track', 'at risk', 'reached'])}.`);
  return parts.join('\n\n');
}

function extractedTasksJson() {
  const n = int(1, 5);
  const tasks = Array.from({ length: n }, () => {
    /** @type {{ title: string, description?: string, priority?: string, due_date?: number }} */
    const t = { title: taskTitle() };
    if (chance(0.5)) t.description = pick(COMMENTS);
    t.priority = priority();
    if (chance(0.7)) t.due_date = Date.UTC(2025, 0, 1) + int(0, 729) * 86_400_000 + int(0, 23) * 3_600_000;
    return t;
  });
  const json = chance(0.5) ? JSON.stringify(tasks) : JSON.stringify(tasks, null, 2);
  return pick([json, `\`\`\`json\n${json}\n\`\`\``]);
}

function jsonExport() {
  const items = Array.from({ length: int(1, 4) }, (_, i) => ({
    id: `t${int(100, 999)}`,
    title: taskTitle(),
    status: status(),
    priority: priority(),
    ...(chance(0.5) ? { project: project() } : {}),
    ...(i % 2 === 0 ? { due: randomDate().toISOString().slice(0, 10) } : {}),
  }));
  return `${pick(['Here are the tasks as JSON:', 'As requested, in JSON:', 'JSON export:'])}\n\n\`\`\`json\n${JSON.stringify(items, null, 2)}\n\`\`\``;
}

function pipeline() {
  const p = quote(project());
  const n = int(2, 5);
  return pick([
    () =>
      `I proposed the project ${p} and ${n} tasks for it: ${joinAnd(Array.from({ length: n }, () => quote(taskTitle())))}. ${pick(intros.confirm)}`,
    () =>
      `I created a note with the meeting minutes and proposed ${n} follow-up tasks (${pick(PRIORITIES)} priority, due ${dueText()}).`,
    () =>
      `Two things: the milestone ${quote(pick(MILESTONES))} is proposed for ${dueText()}, and the task ${quote(taskTitle())} is moved to ${statusWord('in_progress')}.`,
    () =>
      `I archived ${p} (proposal) and moved its ${n} open tasks to ${quote(project())}. Nothing was deleted.`,
  ])();
}

function clarify() {
  return pick([
    () => `Which project do you mean: ${joinAnd(sample(PROJECTS, 2), 'or')}?`,
    () => `Do you want the task due ${dueText()} or ${dueText()}?`,
    () =>
      `I see two tasks called ${quote(taskTitle())}. Which one should I update, the one in ${quote(project())} or the other?`,
    () => `Should the new task have high, medium or low priority? If you don't mind, I'll use medium.`,
    () =>
      `What should the status be — ${joinAnd(
        STATUSES.map((s) => statusWord(s)),
        'or',
      )}?`,
    () => `Sorry, I can only see the tasks the app sent with your message. Open the project and ask again?`,
    () =>
      `I have used all my lookups for this message. So far I found ${int(1, 9)} matching tasks; ask me again to continue.`,
  ])();
}

/** Explanations a user may ask for: the prompts' vocabulary, in the agents' own words. */
function help() {
  return pick([
    () =>
      `A task can be ${statusWord('todo')}, ${statusWord('in_progress')} or ${statusWord('done')}. Set it to ${statusWord('in_progress')} when you start working on it.`,
    () => `Priorities go from high to low: high, medium, low. I'd use high only for things due this week.`,
    () =>
      `You can give every task one of three priorities (low, medium or high) and one of three statuses (todo, in_progress, done).`,
    () =>
      `Archiving a project keeps all of its tasks, notes and milestones but hides it from the active list. Deleting removes it for good, so I usually recommend archiving.`,
    () =>
      `Notes support Markdown: headings with #, lists with -, **bold** and _italics_, and checkboxes with - [ ].`,
    () =>
      `Milestones (checkpoints) mark important dates of a project, like ${quote(pick(MILESTONES))}. Each one belongs to exactly one project.`,
    () =>
      `I can list, create, update and delete your tasks, and comment on them. Changes are only proposals until you confirm them in the app.`,
    () =>
      `When I suggest a milestone on my own, it's marked as AI-suggested so you can approve or dismiss it.`,
    () =>
      `Assignees are stored as a list of names, e.g. ${JSON.stringify(sample(PEOPLE, 2))}. Just tell me who should work on it.`,
    () =>
      `Your weekly summary lists what was done, what is still in progress, what is late and the next steps, based on your tasks, milestones and notes.`,
    () => `Due dates are shown in your local time; I'll convert “${pick(RELATIVE)}” to a date for you.`,
    () =>
      `I can export tasks as JSON with title, status, priority and due date, or as a Markdown table if you prefer.`,
    () =>
      `To move a task to another project, tell me the task and the target project, e.g. “move ${taskTitle()} to ${project()}”.`,
  ])();
}

function chitchat() {
  return pick([
    () => `You're welcome! Let me know if anything else comes up.`,
    () => {
      const n = int(1, 9);
      return `Good morning ${person()}! You have ${n} tasks for today, ${int(0, Math.min(n, 3))} of them with high priority.`;
    },
    () =>
      `A simple way to plan the week: pick three high priority tasks, block time for them in the morning, and leave the afternoon for low priority ones.`,
    () =>
      `I can't send emails, but I can create a task to remind you: ${quote(taskTitle())}, due ${dueText()}?`,
    () => `Great progress: ${int(3, 15)} tasks done this week, ${int(0, 4)} more than last week.`,
    () => `Tip: break ${quote(taskTitle())} into smaller steps; I can propose them as separate tasks.`,
  ])();
}

/** Answers in the user's language (the agents answer in the language of the user). */
function multilingual() {
  const t = taskTitle();
  const d = randomDate().toISOString().slice(0, 10);
  return pick([
    () =>
      `Ich habe die Aufgabe „${t}“ mit hoher Priorität vorgeschlagen, fällig am ${d}. Bitte bestätige die Änderung.`,
    () =>
      `Du hast ${int(2, 8)} offene Aufgaben im Projekt „${project()}“. Soll ich sie nach Fälligkeit sortieren?`,
    () => `Ich habe vorgeschlagen, das Projekt „${project()}“ zu archivieren, statt es zu löschen.`,
    () =>
      `J'ai proposé la tâche « ${t} » avec une priorité ${pick(['haute', 'moyenne', 'basse'])}, échéance le ${d}.`,
    () => `Voici vos jalons pour « ${project()} » : ${joinAnd(sample(MILESTONES, 2), 'et')}.`,
    () => `He propuesto la tarea «${t}» con prioridad ${pick(['alta', 'media', 'baja'])} para el ${d}.`,
    () => `Tienes ${int(1, 6)} tareas vencidas. ¿Quieres que cambie alguna a «en curso»?`,
    () => `“${t}” görevini yüksek öncelikle önerdim; son tarih ${d}. İstanbul ekibine atansın mı?`,
    () => `İki not buldum: ${joinAnd(sample(NOTE_TITLES, 2), 've')}.`,
    () => `Ho proposto di archiviare il progetto «${project()}». Confermi?`,
    () => `Ik heb de taak '${t}' voorgesteld met prioriteit ${pick(['hoog', 'middel', 'laag'])}.`,
    () => `タスク「${t}」を優先度「高」で提案しました。期限は${d}です。`,
  ])();
}

/** @type {Array<[() => string, number]>} */
const KINDS = [
  [listTasks, 12],
  [createTask, 12],
  [updateTask, 10],
  [deleteTask, 5],
  [dueToday, 6],
  [comments, 6],
  [projects, 9],
  [checkpoints, 8],
  [notes, 8],
  [weeklySummary, 5],
  [extractedTasksJson, 4],
  [jsonExport, 2],
  [pipeline, 4],
  [clarify, 4],
  [help, 4],
  [chitchat, 3],
  [multilingual, 5],
];
const TOTAL_WEIGHT = KINDS.reduce((sum, [, w]) => sum + w, 0);

function answer() {
  let r = rand() * TOTAL_WEIGHT;
  for (const [make, weight] of KINDS) {
    r -= weight;
    if (r < 0) return make();
  }
  return KINDS[0][0]();
}

const answers = new Set();
for (let tries = 0; answers.size < COUNT; tries++) {
  if (tries > COUNT * 20) throw new Error(`only ${answers.size} distinct answers`);
  answers.add(cap(answer().trim()));
}

const corpus = {
  description:
    'Benign assistant answers for the sanitizer false-positive test. Generated by scripts/generate-benign-corpus.mjs (npm run corpus:benign); do not edit by hand.',
  seed: SEED,
  count: answers.size,
  answers: [...answers],
};
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, `${JSON.stringify(corpus, null, 2)}\n`);
process.stdout.write(`Wrote ${answers.size} answers to ${OUT}\n`);
