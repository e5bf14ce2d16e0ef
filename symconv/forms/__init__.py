"""The two forms of a convolution: the index sum (``direct``) and the matrix 𝒲 (``blocks``, ``assembly``)."""
