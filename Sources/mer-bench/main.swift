print("mer-bench")
