/**
 * Child for the doctor's hardening line: prints the line before and after
 * `hardenProcess()`, one JSON object each.
 *
 * @module
 */

import { hardenProcess } from "../../mod.ts";
import { runDoctor } from "../../doctor.ts";

const line = () => runDoctor().checks.find((c) => c.id === "hardening");
console.log(JSON.stringify(line()));
hardenProcess();
console.log(JSON.stringify(line()));
