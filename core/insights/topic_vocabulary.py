"""The controlled topic vocabulary: canonical tags, the words that signal them, broader parents.

A tag is something a listener would follow. Its terms are whole words or phrases (any case) with
their inflections spelled out, so "priced" and "prices" both give "pricing". Ambiguous words
("raise", "model", "focus on") are left out on purpose: a missed tag costs less than a wrong one.
"""

from __future__ import annotations

# tag -> comma-separated terms that signal it.
_TERMS = {
    # business
    "pricing": "pricing, price, prices, priced, price increase, discount, discounts, per seat, "
    "seat-based, usage-based, annual plan, annual plans, paid tier, free tier, freemium",
    "churn": "churn, churned, churning, retention, cancellations, cancellation, "
    "cancel their subscription, cancelled their subscription, logo churn, net revenue retention",
    "revenue": "revenue, arr, mrr, profit, profitable, profitability, gross margin, margins",
    "fundraising": "fundraising, fundraise, funding round, investors, investor, venture capital, "
    "vc, vcs, seed round, series a, valuation, term sheet, bootstrapped, bootstrapping",
    "payments": "payments, payment, payment method, payment methods, billing, checkout, invoice, "
    "invoices, invoicing, stripe",
    "startups": "startup, startups, founder, founders, founding team, early-stage",
    "product": "product manager, product managers, product management, roadmap, "
    "product-market fit, user research, ux, onboarding flow",
    "marketing": "marketing, advertising, ads, seo, brand, brands, sponsorships, go-to-market",
    "costs": "costs, cost per, budget, budgets, spending, spend, cloud bill, cost cutting, "
    "inference cost, inference costs, unit economics",
    "customer support": "support tickets, support ticket, customer support, help desk",
    # people and teams
    "hiring": "hiring, hire, hires, hired, recruiting, recruiter, recruiters, candidate, "
    "candidates, interview, interviews, interviewing, take-home, take-homes, job offer",
    "careers": "career, careers, junior, juniors, senior engineers, mentor, mentors, mentoring, "
    "mentorship, promotion, promotions, bootcamp, resume, job search",
    "leadership": "leadership, manager, managers, management, engineering manager, ceo, cto, "
    "team lead, executives",
    "remote work": "remote work, remote workers, remote worker, remote team, remote teams, "
    "work from home, working from home, wfh, distributed team, distributed teams, "
    "fully remote, hybrid work, remote",
    "meetings": "meeting, meetings, meeting-free, standup, standups, calendar",
    "productivity": "productivity, productive, deep work, focus time, focused work, focus block, "
    "interruption, interruptions, interrupted, distraction, distractions, notifications, "
    "notification, procrastination, attention residue, context switching",
    "communication": "async, asynchronous, chat messages, email, emails, inbox, response time, "
    "response-time, slack messages, written communication",
    "burnout": "burnout, burned out, burnt out, exhaustion, exhausted, overwork, overworked, "
    "attrition",
    # health
    "sleep": "sleep, sleeping, asleep, insomnia, nap, naps, napping, rem sleep, bedtime, "
    "melatonin, circadian, deep sleep, sleep quality",
    "caffeine": "caffeine, coffee, espresso, energy drink, energy drinks, caffeinated",
    "alcohol": "alcohol, wine, beer, nightcap, drinking",
    "exercise": "exercise, exercising, workout, workouts, fitness, strength training",
    "mental health": "mental health, stress, stressed, anxiety, anxious, panic attacks, "
    "wellbeing, well-being, therapy, depression",
    "health": "health, healthy, doctor, doctors, clinical, medical",
    # engineering
    "ai": "ai, artificial intelligence, machine learning, llm, llms, gpt, chatgpt, openai, "
    "copilot, chatbot, ai assistant, ai assistants, coding assistant, coding assistants, "
    "generated code, inference, neural network, deep learning, agents",
    "code review": "code review, code reviews, reviewing code, reviewer, reviewers, "
    "pull request, pull requests, code reviewer",
    "testing": "testing, unit tests, unit test, integration tests, test suite, tests, "
    "test coverage, tdd",
    "on call": "on-call, on call, pager, pagers, paged, paging, night pages, "
    "rotation, rotations, alert, alerts, alerting, alert fatigue, runbook, runbooks",
    "incident response": "incident, incidents, incident response, outage, outages, postmortem, "
    "postmortems, post-mortem, post-mortems, blameless",
    "observability": "observability, monitoring, tracing, traces, metrics, logging, logs, "
    "dashboards, dashboard, dtrace, slo, slos, service level objective, "
    "service level objectives, error budget, error budgets, instrumentation, profiling",
    "postgres": "postgres, postgresql, vacuum, autovacuum, pgbouncer, bloat",
    "databases": "database, databases, sql, mysql, sqlite, dynamodb, indexes, "
    "queries, query, connection pool, connection pooling, schema, schemas, replica, replicas",
    "performance": "performance, latency, throughput, benchmark, benchmarks, scalability, "
    "optimization, optimisation",
    "cloud": "cloud, aws, azure, gcp, ec2, ecs, fargate, lambda, serverless, s3, "
    "autoscaling, autoscaled, instances",
    "kubernetes": "kubernetes, k8s, pods, pod, containers, container, docker",
    "security": "security, vulnerability, vulnerabilities, exploit, encryption, authentication, "
    "attack, attacker, attackers, privacy, passwords, phishing",
    "open source": "open source, open-source, maintainer, maintainers, contributors, "
    "contributing, license, licensing, hacktoberfest, github",
    "programming languages": "rust, python, javascript, typescript, golang, java, c++, ruby, "
    "php, compiler, compilers, programming language, programming languages",
    "web development": "css, html, frontend, front-end, browser, browsers, react, codepen, "
    "web design, wordpress, website, websites",
    "hardware": "hardware, cpu, cpus, chip, chips, silicon, firmware, microprocessor, gpu, gpus",
    "operating systems": "kernel, operating system, linux, solaris, illumos, unix",
    "technical debt": "technical debt, tech debt, legacy code, refactoring, refactor, rewrite",
    "writing": "writing, writer, writers, writer's block, novel, nanowrimo, blog post, "
    "blog posts, blogging",
    "learning": "learning, teaching, education, tutorial, tutorials, course, courses, "
    "beginner, beginners, students",
    "community": "community, communities, meetup, meetups, conference, conferences, volunteer, "
    "volunteers, belonging",
    "podcasting": "podcasting, podcaster, podcasters, rss",
    "music": "music, songs, lyrics, playlist, playlists, musicians",
    "self driving cars": "self-driving, autonomous vehicles, waymo, robotaxi, robotaxis, tesla, "
    "cybertruck",
}
VOCABULARY: dict[str, tuple[str, ...]] = {
    tag: tuple(t.strip() for t in terms.split(",")) for tag, terms in _TERMS.items()
}

# A specific tag also files an insight under its broader topic, when there is room.
PARENTS = {
    "sleep": "health",
    "caffeine": "health",
    "alcohol": "health",
    "exercise": "health",
    "mental health": "health",
    "burnout": "mental health",
    "postgres": "databases",
    "kubernetes": "cloud",
    "churn": "startups",
    "fundraising": "startups",
    "code review": "software engineering",
    "testing": "software engineering",
    "technical debt": "software engineering",
    "incident response": "on call",
}

# Terms that are not tags but should still not become key phrases.
_NEVER_TEXT = """monday tuesday wednesday thursday friday saturday sunday january february march
    april may june july august september october november december today tonight okay yeah
    english christmas"""
NEVER_KEY_PHRASES = frozenset(_NEVER_TEXT.split())
