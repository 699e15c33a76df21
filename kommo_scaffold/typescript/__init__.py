"""TypeScript projects (the `language: typescript` answer): src/*.ts is the source and
widget/script.js is build output of the project's own build.mjs (esbuild from the project's
node_modules). Here: finding such a project, building it once or on every save, the tools it
needs, and source-map positions for the checker's findings."""
