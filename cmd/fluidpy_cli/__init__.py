"""fluidpy_cli"""
