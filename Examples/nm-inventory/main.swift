print("nm-inventory")
