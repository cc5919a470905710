// The NetworkManager module: typed access to NetworkManager over D-Bus. See NMClient.
