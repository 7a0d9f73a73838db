"""Generic LLM fine-tuning: SFT and GRPO with TRL + PEFT LoRA, resumable, exported to GGUF for llama.cpp.

Modules: ``config`` (profiles ``paper``, ``paper-comllm``, ``cpu``), ``records`` (the COMLLM authors'
instruction/input/output records and their chat rendering), ``train`` (``sft``, ``grpo``), ``export``
(merged weights -> GGUF), ``model`` (base models), ``run_state`` (run.json, curves). Importing this
package loads no torch; ``train`` and ``export`` import it when called. See docs/finetune.md.
"""
