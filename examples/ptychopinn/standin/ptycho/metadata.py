"""Stand-in for ptycho/metadata.py of PtychoPINN (hoidn/PtychoPINN at 712c23f).

create_metadata, save_with_metadata and load_with_metadata are copied
verbatim, so the stand-in datasets carry the real `_metadata` entry (a JSON
string in a 0-d object array) and ptycho_train reads its nphotons back as
the real one does.
"""

import json
import logging
import numpy as np
from datetime import datetime
from typing import Dict, Any, Optional, Tuple
import socket

from ptycho.config.config import TrainingConfig

logger = logging.getLogger(__name__)


class MetadataManager:
    """Manages metadata storage and retrieval for NPZ files.
    
    This class provides static methods for creating, saving, loading, and validating
    metadata associated with ptychography datasets. The metadata includes physics
    parameters (like nphotons), creation information, and transformation history.
    """
    
    METADATA_KEY = '_metadata'
    CURRENT_SCHEMA_VERSION = '1.0.0'
    
    @staticmethod
    def create_metadata(
        config: TrainingConfig,
        script_name: str,
        **additional_params
    ) -> Dict[str, Any]:
        """Create a metadata dictionary from configuration and context.
        
        Args:
            config: Training configuration containing physics parameters
            script_name: Name of the script creating the dataset
            **additional_params: Additional parameters to include (e.g., buffer, seed)
            
        Returns:
            Complete metadata dictionary with all relevant information
        """
        metadata = {
            "schema_version": MetadataManager.CURRENT_SCHEMA_VERSION,
            "creation_info": {
                "timestamp": datetime.utcnow().isoformat() + "Z",
                "script": script_name,
                "hostname": socket.gethostname(),
                "ptychopinn_version": "2.0.0"  # TODO: Get from package version
            },
            "physics_parameters": {
                "nphotons": config.nphotons,
                "gridsize": config.model.gridsize,
                "N": config.model.N,
                "probe_trainable": config.probe_trainable,
                "intensity_scale_trainable": config.intensity_scale_trainable,
                "nll_weight": config.nll_weight,
                "model_type": config.model.model_type
            },
            "training_parameters": {
                "n_images": config.n_images,
                "batch_size": config.batch_size,
                "nepochs": config.nepochs
            },
            "data_transformations": []
        }
        
        # Add any additional parameters passed in
        if additional_params:
            metadata["additional_parameters"] = additional_params
            
        return metadata
    
    @staticmethod
    def save_with_metadata(
        file_path: str,
        data_dict: Dict[str, np.ndarray],
        metadata: Dict[str, Any]
    ) -> None:
        """Save NPZ file with embedded JSON metadata.
        
        Args:
            file_path: Path where the NPZ file will be saved
            data_dict: Dictionary of arrays to save
            metadata: Metadata dictionary to embed
        """
        # Make a copy to avoid modifying the original
        save_dict = data_dict.copy()
        
        # Convert metadata to JSON string and store as array
        # Use custom JSON encoder to handle numpy types
        class NumpyEncoder(json.JSONEncoder):
            def default(self, obj):
                if isinstance(obj, (np.integer, np.int64, np.int32)):
                    return int(obj)
                if isinstance(obj, (np.floating, np.float64, np.float32)):
                    return float(obj)
                if isinstance(obj, np.ndarray):
                    return obj.tolist()
                return super().default(obj)
        
        metadata_json = json.dumps(metadata, indent=2, cls=NumpyEncoder)
        # Store as 0-d object array to preserve the string
        save_dict[MetadataManager.METADATA_KEY] = np.array(metadata_json, dtype=object)
        
        # Save the combined dictionary
        np.savez_compressed(file_path, **save_dict)
        logger.debug(f"Saved NPZ with metadata to {file_path}")
    
    @staticmethod
    def load_with_metadata(
        file_path: str
    ) -> Tuple[Dict[str, np.ndarray], Optional[Dict[str, Any]]]:
        """Load NPZ file and extract metadata if present.
        
        Args:
            file_path: Path to the NPZ file to load
            
        Returns:
            Tuple of (data_dict, metadata_dict)
            metadata_dict will be None if no metadata is present
        """
        with np.load(file_path, allow_pickle=True) as data:
            # Extract all arrays except metadata
            data_dict = {}
            metadata = None
            
            for key in data.files:
                if key == MetadataManager.METADATA_KEY:
                    # Extract and parse metadata
                    try:
                        metadata_json = str(data[key].item())
                        metadata = json.loads(metadata_json)
                        logger.debug(f"Loaded metadata from {file_path}")
                    except (json.JSONDecodeError, ValueError) as e:
                        logger.warning(f"Failed to parse metadata from {file_path}: {e}")
                else:
                    data_dict[key] = data[key]
        
        return data_dict, metadata
    
